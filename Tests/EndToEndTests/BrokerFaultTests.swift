import Foundation
import LiaisonKafka
import XCTest

/// The fleet over librdkafka's in-process cluster of three brokers while the brokers misbehave:
/// one goes down and comes back, requests of every kind the stages make are answered with
/// retriable errors, partition leaders and the groups' coordinators move, and a broker
/// answers slowly. Nobody restarts a stage: the fleet recovers by itself, and `liaison audit`
/// finds nothing lost and nothing duplicated.
final class BrokerFaultTests: XCTestCase {
    private var broker: EmbeddedBroker!
    private var fleet: TestFleet!
    private let data = FleetDataSet(customers: 500)
    private static let oneRequestInFlight = ["max.in.flight.requests.per.connection": "1"]

    override func setUp() async throws {
        broker = try EmbeddedBroker(brokers: 3)
        fleet = TestFleet(cluster: TestCluster(brokers: broker.bootstrapServers))
        // The in-process cluster holds an empty fetch for the whole wait; keep the hops short.
        fleet.stageProperties["fetch.wait.max.ms"] = "50"
        // Unlike a real broker, the in-process one does not check an idempotent producer's
        // sequence numbers, so a produce request failed by injection and retried behind a later
        // one in flight could be lost; one request in flight per connection keeps retries in order.
        fleet.stageProperties.merge(Self.oneRequestInFlight) { _, new in new }
        try await fleet.start()
    }

    override func tearDown() async throws {
        await fleet?.tearDown(succeeded: testRun?.hasSucceeded == true)
        broker = nil
    }

    func testTheFleetRecoversByItselfFromBrokersGoingDownErrorsMovesAndDelays() throws {
        let partitioned: [String: Int32] = ["upstream": 3, "events": 3, "deliveries": 3, "enriched": 3, "actions": 3]
        for spec in fleet.topicSpecs(partitions: partitioned) { try broker.createTopic(spec.name, partitions: spec.partitions) }
        let records = data.upstreamRecords(for: fleet)
        try fleet.startAll()
        // 500 records a second for ten seconds; every fault comes while they are still arriving.
        let published = fleet.publishInBackground(records, perSecond: 500, producerProperties: Self.oneRequestInFlight)
        let done = data.throughTheFleet
        XCTAssertTrue(try eventually(timeout: 60) { try fleet.progress().judged > 0 }, fleet.logTails)

        var faults: [String] = []
        func fault(_ what: String, then pause: TimeInterval, _ inject: () throws -> Void) throws {
            let before = try fleet.progress()
            XCTAssertLessThan(before.judged, done.judged, "\(what) came after ingest had judged every record")
            try inject()
            faults.append("\(what) (\(before))")
            Thread.sleep(forTimeInterval: pause)
        }
        try fault("broker 2 down", then: 4) { try broker.setBrokerDown(2) }
        try fault("broker 2 up", then: 1) { try broker.setBrokerUp(2) }
        try fault("retriable errors for produce, fetch, offset commit, group and coordinator requests", then: 1) {
            broker.failNext(.produce, with: [.notLeaderOrFollower, .requestTimedOut, .notEnoughReplicas])
            broker.failNext(.fetch, with: [.notLeaderOrFollower, .leaderNotAvailable])
            broker.failNext(.offsetCommit, with: [.notCoordinator, .coordinatorLoadInProgress])
            broker.failNext(.heartbeat, with: [.notCoordinator])
            broker.failNext(.joinGroup, with: [.coordinatorLoadInProgress])
            broker.failNext(.syncGroup, with: [.notCoordinator])
            broker.failNext(.findCoordinator, with: [.coordinatorNotAvailable])
        }
        try fault("every pipeline partition's leader moved to the next broker", then: 1) {
            for name in partitioned.keys {
                for partition in Int32(0)..<3 { try broker.moveLeader(of: fleet.topics[name]!, partition: partition, to: (partition + 1) % 3 + 1) }
            }
        }
        try fault("the stages' group coordinators moved to broker 3", then: 1) {
            for stage in TestFleet.stages { try broker.moveCoordinator(ofGroup: fleet.group(of: stage), to: 3) }
        }
        try fault("broker 1 answers 300 ms late", then: 2) { try broker.setRoundTripTime(300, broker: 1) }
        try fault("broker 1 answers at once again", then: 0) { try broker.setRoundTripTime(0, broker: 1) }
        try published()

        let settled = try eventually(timeout: 180) { try fleet.progress() == done }
        let reached = try fleet.progress()
        print("broker faults, each while records were arriving:\n  " + faults.joined(separator: "\n  "))
        guard settled else {
            return XCTFail("not settled: \(reached) of \(done)\n\(faults.joined(separator: "\n"))\n\(fleet.logTails)")
        }
        XCTAssertTrue(TestFleet.stages.allSatisfy { fleet.running($0).count == 1 }, "a stage process died:\n\(fleet.logTails)")
        fleet.stopAll()

        let audit = try fleet.auditCounts()
        XCTAssertEqual(audit.status, 0, audit.output)
        XCTAssertEqual(audit.counts["upstream-verdicts"]?["upstream_records"], data.records)
        XCTAssertEqual(audit.counts["upstream-verdicts"]?["accepted"], data.accepted)
        XCTAssertEqual(audit.counts["stage-handoffs"]?["enriched_reached_rules"], data.accepted)
        XCTAssertEqual(audit.counts["receipts"]?["final_sent"], data.actions)
        try data.assertSinksHoldOneMessagePerAction(fleet)
    }
}
