import Foundation

/// Ctrl-C cancels the run between nodes or sampler steps; a second Ctrl-C exits at once.
enum SignalHandler {
    static func onInterrupt(_ action: @escaping @Sendable () -> Void) -> DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        var count = 0
        source.setEventHandler {
            count += 1
            if count > 1 { exit(130) }
            printError("interrupt: cancelling (press Ctrl-C again to exit now)")
            action()
        }
        source.resume()
        return source
    }
}
