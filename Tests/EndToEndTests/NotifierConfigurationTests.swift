import Foundation
import LiaisonSchema
import Notifier
import NotifierRuntime
import SchemaChecking
import XCTest

/// The notifier's configuration file: the documented example loads, and a broken file is
/// refused with every problem named by its key.
final class NotifierConfigurationTests: XCTestCase {
    private static let example = SchemaChecker.repositoryRoot.appendingPathComponent("deploy/notifier.yaml").path
    private static let environment = [
        "LIAISON_SMTP_HOST": "smtp.example.com", "LIAISON_SMTP_USERNAME": "liaison", "LIAISON_SMTP_PASSWORD": "secret",
        "LIAISON_SMS_URL": "https://sms.example.com/v1/messages", "LIAISON_SMS_TOKEN": "sms-token",
        "LIAISON_PUSH_URL": "https://push.example.com/v1/send", "LIAISON_PUSH_TOKEN": "push-token",
        "LIAISON_WEBHOOK_URL": "https://crm.example.com/hooks/liaison",
        "LIAISON_WEBHOOK_SECRET": "whsec_bGlhaXNvbi10ZXN0LXdlYmhvb2sta2V5LTAwMA==",
    ]

    func testTheDocumentedExampleLoadsWithItsSecretsFromTheEnvironment() throws {
        let configuration = try NotifierConfiguration(file: Self.example, environment: Self.environment)
        XCTAssertEqual(configuration.policy.ladders[.service], [.push, .sms, .email, .inbox])
        XCTAssertEqual(configuration.policy.frequencyCaps[.marketing], FrequencyLimit(count: 3, windowSeconds: 7 * 86_400))
        XCTAssertEqual(configuration.policy.defaultQuietHours, DailyWindow(start: "22:00", end: "07:00"))
        XCTAssertEqual(configuration.policy.maxSMSSegments, 2)
        XCTAssertEqual(configuration.maxInFlight, 200)
        XCTAssertEqual(configuration.email?.password, "secret")
        XCTAssertEqual(configuration.sms?.headers["Authorization"], "Bearer sms-token")
        XCTAssertEqual(configuration.webhooks.map(\.name), ["default"])
        let catalog = try TemplateCatalog(directory: configuration.templatesDirectory, defaultLocale: configuration.defaultLocale)
        XCTAssertFalse(catalog.templateNames.isEmpty, "templates resolve relative to the file")
    }

    func testAMissingSecretIsNamed() {
        var environment = Self.environment
        environment["LIAISON_SMS_TOKEN"] = nil
        XCTAssertThrowsError(try NotifierConfiguration(file: Self.example, environment: environment)) { error in
            XCTAssertTrue("\(error)".contains("providers.sms.headers.Authorization needs the environment variable LIAISON_SMS_TOKEN"), "\(error)")
        }
    }

    func testEveryProblemIsReportedAtOnce() {
        let yaml = """
            ladders: { service: [push, pigeon], marketing: [email] }
            frequency_caps: { marketing: { count: 0, per: 7d } }
            quiet_hours: { start: "25:00", end: "07:00" }
            time_zone: Mars/Olympus
            retry: { jitter: 2 }
            providers:
              push: { url: "https://push.example.com", body: { token: adress } }
            """
        XCTAssertThrowsError(try NotifierConfiguration(yaml: yaml, origin: "bad.yaml", baseDirectory: URL(fileURLWithPath: "/"), environment: [:])) { error in
            let problems = (error as? NotifierConfigurationError)?.problems ?? []
            let text = problems.joined(separator: "\n")
            for expected in [
                "ladders.service: unknown channel 'pigeon'", "frequency_caps.marketing: needs count > 0", "quiet_hours:",
                "time_zone: 'Mars/Olympus' is not an IANA time zone", "retry.jitter must be between 0 and 1",
                "ladders.marketing uses email, but providers.email is not configured", "providers.push:",
            ] {
                XCTAssertTrue(text.contains(expected), "missing '\(expected)' in:\n\(text)")
            }
            XCTAssertTrue("\(error)".hasPrefix("bad.yaml has \(problems.count) problems"), "\(error)")
        }
    }
}
