import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Ctrl-C cancels the run between nodes or sampler steps; a second Ctrl-C exits at once. `serve`
/// also takes SIGTERM this way (a service manager's stop): the first drains, a second exits.
///
/// The SIGINT handler only does what is safe in a signal handler: the first time it writes a
/// byte to a pipe, whose reader thread runs the cancellation; the second time it calls `_exit`.
/// (A Dispatch signal source needs SIGINT ignored and, here, never fired.) Handlers do not
/// survive `exec`, so `latentflow-tools` started by the forwarder gets the default behaviour.
enum SignalHandler {
    /// Calls `action` (once) on the first SIGINT from now on.
    static func onInterrupt(_ action: @escaping @Sendable () -> Void) {
        InterruptState.shared.setAction(action, message: "interrupt: cancelling (press Ctrl-C again to exit now)")
        InterruptState.shared.installOnce(signals: [SIGINT])
    }

    /// Calls `action` (once) on the first SIGTERM or SIGINT from now on.
    static func onShutdown(message: String, _ action: @escaping @Sendable () -> Void) {
        InterruptState.shared.setAction(action, message: message)
        InterruptState.shared.installOnce(signals: [SIGTERM, SIGINT])
    }
}

/// The pipe between the signal handler and the thread that cancels: set up before the handler
/// is installed, never changed afterwards, so the handler reads plain globals.
nonisolated(unsafe) private var interruptPipe: (read: Int32, write: Int32) = (-1, -1)
nonisolated(unsafe) private var interruptCount: sig_atomic_t = 0

private func handleInterrupt(_ signal: Int32) {
    interruptCount += 1
    if interruptCount > 1 { _exit(128 + signal) }
    var byte: UInt8 = 1
    _ = write(interruptPipe.write, &byte, 1)
}

private final class InterruptState: @unchecked Sendable {
    static let shared = InterruptState()
    private let lock = NSLock()
    private var action: (@Sendable () -> Void)?
    private var message = ""
    private var installed = false

    func setAction(_ action: @escaping @Sendable () -> Void, message: String) {
        lock.lock()
        (self.action, self.message) = (action, message)
        lock.unlock()
    }

    func installOnce(signals: [Int32]) {
        lock.lock()
        defer { lock.unlock() }
        guard !installed else { return }
        installed = true
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            return printError("warning: Ctrl-C will not cancel: \(String(cString: strerror(errno)))")
        }
        interruptPipe = (fds[0], fds[1])
        interruptCount = 0  // both globals initialised here, not lazily inside the handler
        let reader = Thread { [self] in waitForInterrupt() }
        reader.name = "latentflow-interrupt"
        reader.start()
        var handler = sigaction()
        handler.__sigaction_handler.sa_handler = handleInterrupt
        handler.sa_flags = SA_RESTART
        sigemptyset(&handler.sa_mask)
        for signal in signals { sigaction(signal, &handler, nil) }
    }

    private func waitForInterrupt() {
        var byte: UInt8 = 0
        while true {
            let n = read(interruptPipe.read, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { return }
            lock.lock()
            let (action, message) = (self.action, self.message)
            lock.unlock()
            printError(message)
            action?()
        }
    }
}
