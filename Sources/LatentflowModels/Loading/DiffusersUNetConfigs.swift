/// The SD1.x/SD2.x-family entries of ComfyUI's list of known diffusers UNets, in its order: what a
/// diffusers-layout UNet file must match for UNETLoader to take it.
///
/// Matches: ComfyUI `comfy/model_detection.py` `unet_config_from_diffusers_unet` (its `SD21`,
/// `SD15`, `SD21_uncliph`, `SD21_unclipl`, `SD09_XS`, `SD_XS`, `SD15_diffusers_inpaint`). ComfyUI
/// compares only the fields it reads off the weights (`DiffusersUNetFingerprint`); the SDXL-family
/// entries between these (SDXL, SSD-1B, Segmind Vega, KOALA, …) take a 2048-wide context and a
/// 2816-wide `add_embedding`, so no file matches both them and one of these.
struct DiffusersUNetEntry: Sendable, Equatable {
    let name: String
    let modelChannels: Int
    let inChannels: Int
    let contextDim: Int
    let admInChannels: Int?
    /// ComfyUI's `transformer_depth`: transformers after each down-path ResBlock, shallowest first.
    let transformerDepth: [Int]
    /// `use_linear_in_transformer`: which of ComfyUI's model classes takes the entry (SD15's 1x1
    /// convolutions and 8 heads, SD20's linear projections and 64-wide heads).
    let linearProjection: Bool
    /// `disable_self_attentions` per level; empty where the entry has none.
    let selfAttentionDisabledLevels: [Bool]

    static let sd1Depth = [1, 1, 1, 1, 1, 1, 0, 0]

    static let all = [
        DiffusersUNetEntry(
            name: "SD21", modelChannels: 320, inChannels: 4, contextDim: 1024, admInChannels: nil,
            transformerDepth: sd1Depth, linearProjection: true, selfAttentionDisabledLevels: []),
        DiffusersUNetEntry(
            name: "SD15", modelChannels: 320, inChannels: 4, contextDim: 768, admInChannels: nil,
            transformerDepth: sd1Depth, linearProjection: false, selfAttentionDisabledLevels: []),
        DiffusersUNetEntry(
            name: "SD21_uncliph", modelChannels: 320, inChannels: 4, contextDim: 1024, admInChannels: 2048,
            transformerDepth: sd1Depth, linearProjection: true, selfAttentionDisabledLevels: []),
        DiffusersUNetEntry(
            name: "SD21_unclipl", modelChannels: 320, inChannels: 4, contextDim: 1024, admInChannels: 1536,
            transformerDepth: sd1Depth, linearProjection: true, selfAttentionDisabledLevels: []),
        DiffusersUNetEntry(
            name: "SD09_XS", modelChannels: 320, inChannels: 4, contextDim: 1024, admInChannels: nil,
            transformerDepth: [1, 1, 1], linearProjection: true, selfAttentionDisabledLevels: [true, false, false]),
        DiffusersUNetEntry(
            name: "SD_XS", modelChannels: 320, inChannels: 4, contextDim: 768, admInChannels: nil,
            transformerDepth: [0, 1, 1], linearProjection: false, selfAttentionDisabledLevels: []),
        DiffusersUNetEntry(
            name: "SD15_diffusers_inpaint", modelChannels: 320, inChannels: 9, contextDim: 768, admInChannels: nil,
            transformerDepth: sd1Depth, linearProjection: false, selfAttentionDisabledLevels: []),
    ]

    /// ComfyUI's rule: every field it read off the weights equals the entry's.
    func matches(_ file: DiffusersUNetFingerprint) -> Bool {
        file.modelChannels == modelChannels && file.inChannels == inChannels
            && (file.contextDim.map { $0 == contextDim } ?? true) && file.admInChannels == admInChannels
            && file.transformerDepth == transformerDepth
    }

    /// Latentflow's rule for scaled-down stand-ins (fewer channels than the entry, as the tests'
    /// random tiny UNets; ComfyUI refuses them): the fields that do not scale must match, with
    /// the transformer projection standing in for the context width that tells SD15 from SD21.
    func matchesStandIn(_ file: DiffusersUNetFingerprint) -> Bool {
        file.modelChannels < modelChannels && file.inChannels == inChannels
            && (file.admInChannels != nil) == (admInChannels != nil) && file.transformerDepth == transformerDepth
            && (file.linearProjection.map { $0 == linearProjection } ?? true)
    }

    /// The first entry the file matches, ComfyUI's way first; nil: none.
    static func first(matching file: DiffusersUNetFingerprint) -> DiffusersUNetEntry? {
        all.first { $0.matches(file) } ?? all.first { $0.matchesStandIn(file) }
    }
}
