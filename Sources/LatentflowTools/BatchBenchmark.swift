import Foundation
import Latentflow

/// The batch cases of the 4-step LCM image at one size, each against batch 1 timed in the same
/// run: batch_size 4 in one latent (time per image), and N workflows of distinct seeds through
/// `BatchRunner` on the same engine, the path each `latentflow batch` worker renders its
/// workflows on (`BatchRunner.render`, one after the other), against N times batch 1 (timed before and after).
struct BatchBenchmark {
    let engine: Engine
    let base: URL
    let checkpoint: String
    let size: Int
    /// Dense GFLOP of one image.
    let gflop: Double
    let workflows: Int
    let suffix: String

    var name: String { "LCM 4 steps \(size)px" }

    func run(reference: ReferenceRate) async throws -> [KernelBenchmark] {
        // Untimed: loads the checkpoint and encodes the prompts if no case has yet.
        try await WorkflowBenchmark.render(workflow(seed: 10), engine: engine)
        let single = try await reference.measureOnce("\(name), batch 1, seed 11\(suffix)", gflop: gflop) {
            try await WorkflowBenchmark.render(workflow(seed: 11), engine: engine)
        }
        var four = try await reference.measureOnce(
            "\(name), batch_size 4 in one latent, per image\(suffix)", gflop: 4 * gflop
        ) {
            try await WorkflowBenchmark.render(workflow(seed: 12, batchSize: 4), engine: engine, images: 4)
        }
        four.seconds /= 4
        four.note = String(format: "%.2fx batch 1 per image", four.seconds / single.seconds)
        let folder = try writeWorkflows()
        var batch = try await reference.measureOnce(
            "\(name), \(workflows) workflows through BatchRunner, per image\(suffix)", gflop: Double(workflows) * gflop
        ) {
            let outcomes = try await BatchRunner(engine: engine).run(folder: folder)
            let failed = outcomes.filter { $0.status != .ok || $0.files.count != 1 }
            guard outcomes.count == workflows, failed.isEmpty else {
                throw ModelBenchmark.SmokeCheckFailure(
                    description: "BatchRunner: \(outcomes.count) outcomes, not ok: "
                        + failed.map { "\($0.name) \($0.error ?? $0.status.rawValue)" }.joined(separator: "; "))
            }
        }
        // The machine's speed drifts by 10-15% over the minutes a batch takes: batch 1 is timed again
        // after it, and the batch compared with the mean of the two.
        let singleAfter = try await reference.measureOnce(
            "\(name), batch 1, seed 13, after the batch\(suffix)", gflop: gflop
        ) {
            try await WorkflowBenchmark.render(workflow(seed: 13), engine: engine)
        }
        let reference = (single.seconds + singleAfter.seconds) / 2
        let total = batch.seconds
        batch.seconds /= Double(workflows)
        batch.note = String(
            format: "total %.1f s = %.2fx %d x batch 1 (mean of %.1f s before and %.1f s after)", total,
            total / (Double(workflows) * reference), workflows, single.seconds, singleAfter.seconds)
        return [single, four, batch, singleAfter]
    }

    func workflow(seed: Int, batchSize: Int = 1) -> JSONValue {
        BenchWorkflows.lcm(size: size, seed: seed, checkpoint: checkpoint, batchSize: batchSize)
    }

    /// The N workflow files, seeds 100, 101, ..., in a folder of their own.
    func writeWorkflows() throws -> URL {
        let folder = base.appendingPathComponent("batch-\(size)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for index in 0..<workflows {
            let file = folder.appendingPathComponent(String(format: "lcm-%03d.json", index))
            try Data(workflow(seed: 100 + index).serialized().utf8).write(to: file)
        }
        return folder
    }
}
