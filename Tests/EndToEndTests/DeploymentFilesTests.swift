import Foundation
import Notifier
import NotifierRuntime
import SchemaChecking
import XCTest

/// The deployment files (deploy/, docker-compose.yml, .dockerignore) cannot be run here: there is
/// no Docker and no cluster. scripts/check-deploy.py validates them against the Compose
/// Specification, Kubernetes' and KEDA's schemas, hadolint and the code; the notifier files they
/// ship are loaded by the notifier's own configuration reader.
final class DeploymentFilesTests: XCTestCase {
    private static let root = SchemaChecker.repositoryRoot

    func testTheDeploymentFilesPassTheirChecks() throws {
        let (status, output) = try Self.checkDeploy([])
        XCTAssertEqual(
            status, 0,
            "scripts/check-deploy.py found problems (its validators come from `python3 -m pip install -r scripts/requirements-test.txt`):\n\(output)")
    }

    func testTheComposeNotifierFileLoadsWithTheSinksAsItsProviders() throws {
        let compose = try String(contentsOf: Self.root.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        let secret = try XCTUnwrap(
            compose.firstMatch(of: /LIAISON_WEBHOOK_SECRET:-(whsec_[A-Za-z0-9+\/=]+)\}/)?.1,
            "docker-compose.yml gives the notifier a default webhook key for the demo")
        let configuration = try NotifierConfiguration(
            file: Self.root.appendingPathComponent("deploy/compose/notifier.yaml").path,
            environment: ["LIAISON_WEBHOOK_SECRET": String(secret)])
        XCTAssertEqual(configuration.email?.host, "sinks")
        XCTAssertEqual(configuration.email?.port, 2525)
        XCTAssertEqual(configuration.sms?.url, "http://sinks:8080/sms")
        XCTAssertEqual(configuration.push?.url, "http://sinks:8080/push")
        XCTAssertEqual(configuration.webhooks.map(\.url), ["http://sinks:8080/webhooks/default"])
        let catalog = try TemplateCatalog(directory: configuration.templatesDirectory, defaultLocale: configuration.defaultLocale)
        XCTAssertFalse(catalog.templateNames.isEmpty, "the templates resolve from the file's place in the image, as in the repository")
    }

    func testTheKubernetesNotifierFileLoadsWithTheManifestsEnvironment() throws {
        let (status, yaml) = try Self.checkDeploy(["--print-configmap", "liaison-notifier-config", "notifier.yaml"])
        XCTAssertEqual(status, 0, yaml)
        var environment = [
            "LIAISON_SMTP_USERNAME": "liaison", "LIAISON_SMTP_PASSWORD": "secret", "LIAISON_SMS_TOKEN": "sms-token",
            "LIAISON_PUSH_TOKEN": "push-token", "LIAISON_WEBHOOK_SECRET": "whsec_bGlhaXNvbi1rOHMtdGVzdC13ZWJob29rLWtleQ==",
        ]
        for key in ["LIAISON_SMTP_HOST", "LIAISON_SMS_URL", "LIAISON_PUSH_URL", "LIAISON_WEBHOOK_URL"] {
            let (status, value) = try Self.checkDeploy(["--print-configmap", "liaison-notifier-endpoints", key])
            XCTAssertEqual(status, 0, value)
            environment[key] = value
        }
        let configuration = try NotifierConfiguration(
            yaml: yaml, origin: "deploy/k8s ConfigMap liaison-notifier-config",
            baseDirectory: Self.root.appendingPathComponent("deploy/k8s"), environment: environment)
        XCTAssertEqual(configuration.templatesDirectory.path, "/app/schemas/templates", "the image's templates")
        XCTAssertEqual(configuration.sms?.headers["Authorization"], "Bearer sms-token")
    }

    /// Runs scripts/check-deploy.py from the repository root; its exit status and everything it printed.
    private static func checkDeploy(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "scripts/check-deploy.py"] + arguments
        process.currentDirectoryURL = root
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
