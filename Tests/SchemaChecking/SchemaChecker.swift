import Foundation

/// Runs scripts/check-records.py, which validates records with Python's `jsonschema` against
/// the files in schemas/.
public enum SchemaChecker {
    public struct Verdict: Decodable, Sendable {
        public var valid: Bool
        public var category: String?
        public var message: String
    }

    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    public static func check(_ records: [(name: String, bytes: [UInt8], schema: String)]) throws -> [String: Verdict] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-schema-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var manifest: [[String: String]] = []
        for (index, record) in records.enumerated() {
            let file = directory.appendingPathComponent("\(index).bin")
            try Data(record.bytes).write(to: file)
            manifest.append(["name": record.name, "file": file.path, "schema": record.schema])
        }
        let manifestFile = directory.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", repositoryRoot.appendingPathComponent("scripts/check-records.py").path,
            "--schemas", repositoryRoot.appendingPathComponent("schemas").path, manifestFile.path,
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CheckerFailure(
                "scripts/check-records.py exited with \(process.terminationStatus) (run `scripts/setup --with-test-broker` "
                    + "to install jsonschema): \(errorText)")
        }
        return try JSONDecoder().decode([String: Verdict].self, from: data)
    }

    public struct CheckerFailure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
