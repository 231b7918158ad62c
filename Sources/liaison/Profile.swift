import ArgumentParser
import Foundation
import GRDB

/// `liaison profile CUSTOMER`: the 360° view enrich keeps, read from its partition files.
struct Profile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a customer's profile as enrich keeps it: contact, consent, products, balances, cases, trips, contacts, daily series.",
        discussion: "Read from enrich's partition files in the state directory; an erased customer shows only the tombstone.")

    @Argument(help: "The customer id.")
    var customer: String

    @Option(help: "The stages' state directory (env LIAISON_STATE_DIR; default ./state).")
    var stateDir: String?

    func run() async throws {
        let files = FleetFiles(stateDir: stateDir)
        let state = files.stateDirectory
        guard !files.files(of: "enrich").isEmpty else {
            throw ValidationError("no enrich files under \(state.appendingPathComponent("enrich").path): pass the --state-dir enrich was given")
        }
        for file in files.files(of: "enrich") {
            let row = files.read(file) { db -> Row? in
                guard try db.tableExists("enrich_profiles") else { return nil }
                return try Row.fetchOne(db, sql: "SELECT erased, profile FROM enrich_profiles WHERE customer_id = ?", arguments: [customer])
            } ?? nil
            guard let row else { continue }
            let bytes: Data = row["profile"]
            let pretty = (try? JSONSerialization.jsonObject(with: bytes))
                .flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.prettyPrinted, .sortedKeys]) } ?? bytes
            print("customer \(customer) in \(file.lastPathComponent)\((row["erased"] as Bool) ? " (erased: a tombstone only)" : "")")
            print(String(decoding: pretty, as: UTF8.self))
            return
        }
        throw ValidationError("enrich has no profile of '\(customer)' (customer ids are case-sensitive)")
    }
}
