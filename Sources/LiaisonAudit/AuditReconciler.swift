/// The reconciliations behind `liaison audit`, as pure functions of what the command read from
/// the brokers, the partition files and the sinks, so each can be tested on plain values.
public enum AuditReconciler {}
