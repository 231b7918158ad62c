/// How `SMTPSink` answers the data of one message, so a test or the demo can play a relay that
/// is healthy, busy, refusing or slow. The reply to the DATA command itself is always 354; what
/// is scripted is the reply after the message's final dot, the one that decides whether the
/// relay took responsibility for the message.
public enum SMTPSinkReply: Sendable, Equatable {
    /// 250 with a queue id: the message is taken.
    case accept
    /// 451: a relay that is busy or whose disk is full. Clients try again later.
    case tempFail
    /// 554: a relay that refuses this message for good.
    case reject
    /// Takes the message as it arrives and answers 250 only after the delay: a relay whose
    /// answer comes too late for the client, which then sends the same message again. The
    /// second copy is what `duplicateCount` counts.
    case stall(Duration)
}
