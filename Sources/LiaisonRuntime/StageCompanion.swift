import LiaisonKafka
import LiaisonStore
import ServiceLifecycle

/// Work a stage does beside its processing loop, on the partition files the loop owns: the
/// notifier's deliveries, which call slow providers and must not hold up the loop. The loop
/// tells it which files it owns and when a batch changed one; it runs as a service of its own
/// and is shut down with the stage.
public protocol StageCompanion: Service {
    /// The loop opened and claimed the file; nothing of it is processed before this returns.
    func fileOpened(_ file: TopicPartition, store: PartitionStore)
    /// The loop let the file go (revoked, lost or fenced); the companion must stop using it.
    func fileClosed(_ file: TopicPartition)
    /// A batch (or fired timers) of the file was committed.
    func fileChanged(_ file: TopicPartition)
}
