import LiaisonStage

/// The smallest stage that keeps state: it counts records per key and emits the running count.
/// The runtime's own tests and the first demo run on it, because miscounting is easy to see.
public struct CountingStage: Stage {
    public let name: String
    public let outputTopic: String

    public init(name: String = "counter", outputTopic: String) {
        self.name = name
        self.outputTopic = outputTopic
    }

    public func process(_ record: InputRecord, reading: Void, inputID: String, state: CountState) throws(StageFailure) -> Effect<CountState.Change> {
        guard let key = record.keyString, !key.isEmpty else {
            throw StageFailure(code: "missing_key", message: "record at \(record.position) has no key; counts are kept per key")
        }
        let count = state.count(of: key) + 1
        let value = "{\"key\":\(jsonString(key)),\"count\":\(count),\"input\":\(jsonString(inputID))}"
        return Effect(
            outputs: [OutputRecord(id: "\(name):\(inputID)", topic: outputTopic, key: record.key, value: Array(value.utf8))],
            changes: [.increment(key)])
    }
}

/// Counts of the keys a batch touches.
public struct CountState: StageState {
    public enum Change: Sendable, Equatable {
        case increment(String)
    }

    public private(set) var counts: [String: Int64]

    public init(counts: [String: Int64] = [:]) {
        self.counts = counts
    }

    public func count(of key: String) -> Int64 { counts[key] ?? 0 }

    public mutating func apply(_ change: Change) {
        switch change {
        case let .increment(key): counts[key, default: 0] += 1
        }
    }
}

private func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20: out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
