import ArgumentParser
import Foundation
import Ingest

extension IngestConfiguration {
    /// The ingest file a tool was given, else `LIAISON_INGEST_CONFIG`, else the defaults (every
    /// topic CloudEvents): the formats and mappings ingest judged the upstream records by.
    static func given(_ path: String?) throws -> IngestConfiguration {
        do {
            return try IngestConfiguration(file: path ?? ProcessInfo.processInfo.environment["LIAISON_INGEST_CONFIG"])
        } catch {
            throw ValidationError(error.message)
        }
    }
}
