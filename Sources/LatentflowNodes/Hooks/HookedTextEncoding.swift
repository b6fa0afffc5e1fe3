import Foundation
import LatentflowGraph
import LatentflowModels

/// How a CLIP that SetClipHooks gave hooks encodes: its model patched by each weight hook at
/// strength_clip (times a keyframe's strength when it schedules them), the encodings carrying the
/// hooks when it applies them to conditionings.
///
/// Matches: ComfyUI `comfy/sd.py` `CLIP.encode_from_tokens_scheduled`, `add_hooks_to_dict`, and
/// `comfy/hooks.py` `HookGroup.get_hooks_for_clip_schedule`.
enum HookedTextEncoding {
    /// One span of sampling and each hook's keyframe strength there (1 where none is in force).
    struct Span {
        var start: Double
        var end: Double
        var strengths: [Double]
    }

    /// The conditioning entries of one prompt: `encode` runs once per span when the CLIP schedules
    /// its hooks, else once.
    static func entries(
        _ encoder: TextEncoder, encode: (TextEncoder) throws -> Conditioning.Entry
    ) throws -> [Conditioning.Entry] {
        guard !encoder.hooks.isEmpty else { return [try encode(encoder)] }
        let spans =
            encoder.schedulesHooks
            ? schedule(encoder.hooks)
            : [Span(start: 0, end: 1, strengths: Array(repeating: 1, count: encoder.hooks.hooks.count))]
        return try spans.map { span in
            var entry = try encode(try patched(encoder, strengths: span.strengths))
            if encoder.schedulesHooks { (entry.clipStartPercent, entry.clipEndPercent) = (span.start, span.end) }
            if let hooks = encoder.hooksForConditioning { entry.hooks = hooks }
            return entry
        }
    }

    /// The text model with each hook's patch at strength_clip × `strengths[i]`, on copies of its weights.
    static func patched(_ encoder: TextEncoder, strengths: [Double]) throws -> TextEncoder {
        guard !encoder.weights.isEmpty else { throw NodeError("this CLIP carries no weights for its hooks to patch") }
        let config = encoder.model.config
        var weights = encoder.weights
        for (hook, multiplier) in zip(encoder.hooks.hooks, strengths) {
            let strength = hook.strengthClip * multiplier
            if strength == 0 { continue }
            switch hook.weights {
            case .lora(let lora):
                weights = try LoRAPatcher.apply(
                    lora, to: weights, keyMap: LoRAKeyMap.clip(layers: config.layers), strength: strength,
                    float16Weights: encoder.weightsAreFloat16
                ).weights
            case .modelAsLoRA(_, _, let clip):
                guard let clip else { continue }
                weights = try ModelAsLoRA.apply(
                    clip, to: weights, original: encoder.originalWeights ?? encoder.weights, strength: strength)
            }
        }
        var result = encoder
        result.model = CLIPTextModel(WeightStore(weights, source: "hooked text encoder").root, config: config)
        return result
    }

    /// The spans between every hook's keyframe changes, each with the keyframe of each hook whose
    /// own range overlaps it.
    static func schedule(_ hooks: Hooks) -> [Span] {
        // Each hook's ranges: from a keyframe to the next one of another strength, the last to 1.
        let ranges: [[(start: Double, end: Double, strength: Double?)]] = hooks.hooks.map { hook in
            let keyframes = hook.keyframes.keyframes
            guard var previous = keyframes.first else { return [(0, 1, nil)] }
            var ranges: [(start: Double, end: Double, strength: Double?)] = []
            for keyframe in keyframes {
                if keyframe.startPercent > previous.startPercent && !isClose(keyframe.strength, previous.strength) {
                    ranges.append((previous.startPercent, keyframe.startPercent, previous.strength))
                    previous = keyframe
                } else if keyframe.startPercent == previous.startPercent {
                    previous = keyframe
                }
            }
            if !isClose(previous.startPercent, 1) { ranges.append((previous.startPercent, 1, previous.strength)) }
            return ranges
        }
        let boundaries = Set(ranges.flatMap { $0.flatMap { [$0.start, $0.end] } } + [0]).sorted()
        return zip(boundaries, boundaries.dropFirst()).map { start, end in
            Span(
                start: start, end: end,
                strengths: ranges.map { hookRanges in
                    hookRanges.first { $0.start < end && $0.end > start }?.strength ?? 1
                })
        }
    }

    /// Python's `math.isclose` with its default relative tolerance.
    static func isClose(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(abs(a), abs(b)) }
}
