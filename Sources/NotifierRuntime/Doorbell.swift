import Synchronization

/// Lets a loop sleep until there is something to do instead of waking every few milliseconds
/// to look: `wait` returns once `ring` was called since the previous wait, or when the timeout
/// passes. A ring while nobody waits is kept for the next wait, so no wake-up is lost.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func wait(timeout: Duration) async {
        let alarm = Task { [self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { ring() }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyRung = state.withLock { state -> Bool in
                guard state.rung else {
                    state.waiter = continuation
                    return false
                }
                state.rung = false
                return true
            }
            if alreadyRung { continuation.resume() }
        }
        alarm.cancel()
    }
}
