import ArgumentParser
import Foundation
import Ingest

extension IngestConfiguration {
    /// The ingest file a tool was given, else `LIAISON_INGEST_CONFIG`, else the defaults (every
    /// topic CloudEvents): the formats and mappings ingest judged the upstream records by.
    static func given(_ path: String?) throws -> IngestConfiguration {
        guard let path = path ?? ProcessInfo.processInfo.environment["LIAISON_INGEST_CONFIG"] else { return IngestConfiguration() }
        do {
            return try IngestConfiguration(yaml: String(contentsOfFile: path, encoding: .utf8))
        } catch {
            throw ValidationError("the ingest file \(path) does not load: \(error)")
        }
    }
}
