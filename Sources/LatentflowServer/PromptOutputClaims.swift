import Foundation
import Latentflow

/// Records each output file the running prompt claims in the queue's database before the name
/// exists (`PromptStore.claimed`), so that a restart after `kill -9` can tell which files that
/// prompt's stopped run wrote.
struct PromptOutputClaims: OutputClaimRecorder {
    let store: PromptStore
    let promptId: String
    /// `ServerConfiguration.sigkillAfterOutputForTesting`.
    let sigkillAfterOutput: Bool

    func willClaim(_ url: URL, as identity: FileIdentity) throws {
        try store.claimed(url.path, as: identity, by: promptId)
    }

    func didClaim(_ url: URL) {
        // The worst moment for a crash: the file is complete under its name, the history does not know it.
        if sigkillAfterOutput { kill(getpid(), SIGKILL) }
    }
}
