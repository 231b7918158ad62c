import Foundation

/// Maps on every core. Per-record work that is pure and independent (reading records, decoding
/// and encoding a batch's state) would otherwise all run on the one thread that asked for it.
public func concurrentMap<T: Sendable, U: Sendable>(_ items: [T], _ transform: @Sendable (T) -> U) -> [U] {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    guard cores > 1, items.count >= 128 else { return items.map(transform) }
    let results = UnsafeMutableBufferPointer<U>.allocate(capacity: items.count)
    defer { results.deallocate() }
    // A few chunks per core, so a core slowed by other work does not hold up the rest.
    let chunks = min(cores * 4, items.count / 32)
    let chunk = (items.count + chunks - 1) / chunks
    nonisolated(unsafe) let target = results
    DispatchQueue.concurrentPerform(iterations: chunks) { worker in
        for index in (worker * chunk)..<min(items.count, (worker + 1) * chunk) {
            (target.baseAddress! + index).initialize(to: transform(items[index]))
        }
    }
    let mapped = Array(results)
    _ = results.deinitialize()
    return mapped
}
