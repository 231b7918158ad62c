import LiaisonSchema

/// Why an action may not go out now, from the customer's recent firings: the rule's cooldown,
/// the rule's frequency cap, or the pack's cap on the channel class. nil means it may.
func suppressionReason(
    rule: Rule, channelClass: ChannelClass, pack: RulePack, firings: [Firing], nowMs: Int64
) -> String? {
    let ofRule = firings.filter { $0.ruleId == rule.id }
    if let cooldown = rule.cooldownSeconds, let last = ofRule.map(\.atMs).max(), nowMs - last < cooldown * 1000 {
        return "cooldown: last sent at \(Timestamp(epochMilliseconds: last)); not again before "
            + "\(Timestamp(epochMilliseconds: last + cooldown * 1000))"
    }
    if let cap = rule.cap {
        let recent = ofRule.filter { nowMs - $0.atMs < cap.perSeconds * 1000 }.count
        if recent >= cap.count {
            return "cap: \(recent) actions of this rule in the last \(durationText(cap.perSeconds)), at most \(cap.count)"
        }
    }
    if let cap = pack.channelCaps[channelClass] {
        let recent = firings.filter { $0.channelClass == channelClass && nowMs - $0.atMs < cap.perSeconds * 1000 }.count
        if recent >= cap.count {
            return "cap: \(recent) \(channelClass.rawValue) actions in the last \(durationText(cap.perSeconds)), at most \(cap.count)"
        }
    }
    return nil
}

/// `30d`, `7d12h`, `90m`: how a rule pack writes the window back in a reason.
func durationText(_ seconds: Int64) -> String {
    var rest = seconds
    var text = ""
    for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
        text += "\(rest / size)\(unit)"
        rest %= size
    }
    return text.isEmpty ? "0s" : text
}

extension RulePack {
    /// How far back firings matter: the longest cooldown or cap window, so older ones can go.
    public var firingHorizonSeconds: Int64 {
        let windows = rules.flatMap { [$0.cooldownSeconds, $0.cap?.perSeconds].compactMap { $0 } }
            + channelCaps.values.map(\.perSeconds)
        return windows.max() ?? 0
    }
}
