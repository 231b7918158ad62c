import Foundation
import LiaisonKafka
import LiaisonSchema
import LiaisonStage
import Notifier
import NotifierRuntime
import Rules

/// One stage's own logic over records, in this process, with a state that starts empty and
/// is kept only in memory: what the stage would emit, with nothing written anywhere.
enum Sandbox {
    struct Outcome {
        var verdicts: [(position: RecordPosition, inputID: String, verdict: String, reason: String?)] = []
        var outputs: [OutputRecord] = []
        var deadLetters: [(position: RecordPosition, reason: String)] = []

        func print(stage: String) {
            for verdict in verdicts {
                Swift.print("\(verdict.position.topic)/\(verdict.position.partition)@\(verdict.position.offset)  \(verdict.inputID)  "
                    + verdict.verdict + (verdict.reason.map { " (\($0))" } ?? ""))
            }
            for output in outputs {
                Swift.print("would emit \(output.topic) key=\(output.key.map { String(decoding: $0, as: UTF8.self) } ?? "-") id=\(output.id)")
                Swift.print("  " + String(decoding: output.value.prefix(2_000), as: UTF8.self))
            }
            let accepted = verdicts.filter { $0.verdict == Verdict.accepted.rawValue }.count
            Swift.print("\(stage) sandbox: \(verdicts.count) records, \(accepted) accepted, \(deadLetters.count) dead-lettered, \(outputs.count) records it would emit")
        }
    }

    static func run<S: Stage>(_ stage: S, state initial: S.State, _ records: [InputRecord]) -> Outcome {
        var state = initial
        var outcome = Outcome()
        var seen: Set<String> = []
        for record in records {
            let reading = stage.read(record)
            let id = stage.inputID(of: record, reading: reading)
            guard seen.insert(id).inserted else {
                outcome.verdicts.append((record.position, id, "repeat", "already seen in this range"))
                continue
            }
            do {
                let effect = try stage.process(record, reading: reading, inputID: id, state: state)
                for change in effect.changes { state.apply(change) }
                outcome.verdicts.append((record.position, id, effect.verdict.rawValue, effect.reason))
                outcome.outputs += effect.outputs
            } catch {
                outcome.verdicts.append((record.position, id, Verdict.rejected.rawValue, "\(error.code): \(error.message)"))
                outcome.deadLetters.append((record.position, error.code))
            }
        }
        return outcome
    }
}

/// A backtest of a rule change: enriched events through a pack and the notifier's intake, and
/// the actions that would follow at once compared with those on the actions topic for the same
/// events. Timers are scheduled but not run, so actions timers fire later are counted, not compared.
struct Backtest {
    let pack: RulePack
    let notifier: NotifierConfiguration
    let properties: KafkaProperties

    func run(_ events: [InputRecord]) throws {
        let rules = Sandbox.run(RulesStage(pack: pack), state: RulesState(), events)
        let wouldAct = rules.outputs.filter { $0.topic == ActionV1.topic }
        let intake = Sandbox.run(
            NotifierStage(policy: notifier.policy, topics: notifier.topics), state: NotifierState(),
            wouldAct.enumerated().map { index, output in
                InputRecord(
                    position: RecordPosition(topic: ActionV1.topic, partition: 0, offset: Int64(index)), key: output.key, value: output.value,
                    headers: output.headers)
            })
        let inputIDs = Set(events.map(\.defaultID))
        let taken = try actionsTaken(about: inputIDs)
        let would = Dictionary(wouldAct.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let receiptsByAction = Dictionary(
            intake.outputs.filter { $0.topic == notifier.topics.receipts }.compactMap { output -> (String, String)? in
                guard let receipt = try? JSONValueDecoder().decode(DeliveryReceiptV1.self, from: output.value) else { return nil }
                return (receipt.actionId, receipt.status.rawValue + (receipt.reason.map { " (\($0))" } ?? ""))
            }, uniquingKeysWith: { _, last in last })
        var same = 0
        for id in would.keys.sorted() {
            if taken.contains(id) {
                same += 1
            } else {
                print("+ would act:     \(id)  \(receiptsByAction[id] ?? "queued for delivery")")
            }
        }
        for id in taken.sorted() where would[id] == nil {
            print("- would not act: \(id)")
        }
        print("timers are scheduled, not run: actions they would fire later are not compared")
        print("backtest of \(pack.name) \(pack.version) over \(events.count) enriched events: \(would.count) actions would be taken, "
            + "\(taken.count) were; \(same) in both, \(would.keys.filter { !taken.contains($0) }.count) new, \(taken.filter { would[$0] == nil }.count) gone")
    }

    /// Actions on the actions topic whose decision read one of these events.
    private func actionsTaken(about inputIDs: Set<String>) throws -> Set<String> {
        let range = try TopicRange.resolve(topic: ActionV1.topic, partitions: [], properties: properties, from: nil, to: nil)
        var taken: Set<String> = []
        try range.read(properties: properties) { record in
            guard let action = try? JSONValueDecoder().decode(ActionV1.self, from: record.value), action.kind == .engage,
                action.id.hasPrefix(action.ruleId + "@"), inputIDs.contains(String(action.id.dropFirst(action.ruleId.count + 1)))
            else { return }
            taken.insert(action.id)
        }
        return taken
    }
}
