import LatentflowGraph

/// The nodes that ship with Latentflow, under ComfyUI's class names. Registered through the same
/// `NodePack` API a third-party package uses.
public enum BuiltinNodes: NodePack {
    public static let name = "latentflow"

    public static let nodes: [any Node.Type] = [
        CheckpointLoaderSimple.self, DiffusersLoader.self, LCMGuidanceScale.self, LoraLoader.self,
        LoraLoaderModelOnly.self, CLIPSetLastLayer.self, CLIPTextEncode.self, ConditioningCombine.self,
        ConditioningSetArea.self, ConditioningConcat.self, ConditioningAverage.self, ConditioningZeroOut.self,
        ConditioningSetTimestepRange.self, ConditioningSetAreaStrength.self, ConditioningSetAreaPercentage.self,
        EmptyLatentImage.self, LatentUpscale.self, LatentUpscaleBy.self, LatentFromBatch.self, RepeatLatentBatch.self,
        LatentComposite.self, LatentBlend.self, LatentCrop.self, LatentFlip.self, LatentRotate.self, LatentAdd.self,
        LatentSubtract.self, LatentMultiply.self, LatentInterpolate.self, LatentBatch.self,
        LatentBatchSeedBehavior.self,
        ModelSamplingDiscrete.self, KSampler.self, KSamplerAdvanced.self, VAELoader.self, VAEDecode.self,
        VAEDecodeTiled.self, VAEEncode.self, VAEEncodeTiled.self,
        SaveLatent.self, LoadLatent.self, KSamplerSelect.self, BasicScheduler.self, RandomNoise.self, DisableNoise.self,
        CFGGuider.self, BasicGuider.self, SamplerCustom.self, SamplerCustomAdvanced.self,
        LoadImage.self, SaveImage.self, PreviewImage.self, EmptyImage.self, ImageInvert.self,
        ImageScale.self, ImageScaleBy.self, ImageScaleToTotalPixels.self,
        // Masks, inpainting and outpainting.
        LoadImageMask.self, MaskToImage.self, ImageToMask.self, SolidMask.self, InvertMask.self, CropMask.self,
        MaskComposite.self, FeatherMask.self, GrowMask.self, ThresholdMask.self, ImageCompositeMasked.self,
        LatentCompositeMasked.self, SetLatentNoiseMask.self, VAEEncodeForInpaint.self, InpaintModelConditioning.self,
        ImagePadForOutpaint.self,
        ControlNetLoader.self, DiffControlNetLoader.self, GLIGENLoader.self, GLIGENTextBoxApply.self,
        ControlNetApply.self, ControlNetApplyAdvanced.self,
        Canny.self,
        // Custom-sampling schedulers and sigma operations.
        KarrasScheduler.self, ExponentialScheduler.self, PolyexponentialScheduler.self, LaplaceScheduler.self,
        VPScheduler.self, BetaSamplingScheduler.self, SDTurboScheduler.self, AlignYourStepsScheduler.self,
        SplitSigmas.self, SplitSigmasDenoise.self, FlipSigmas.self, SetFirstSigma.self, ExtendIntermediateSigmas.self,
        UpscaleModelLoader.self, ImageUpscaleWithModel.self,
        // Standalone model parts and the config loader.
        UNETLoader.self, CLIPLoader.self, CheckpointLoader.self,
        // Model merging.
        ModelMergeSimple.self, ModelMergeBlocks.self, ModelMergeSubtract.self, ModelMergeAdd.self, ModelMergeSD1.self,
        ModelMergeSD2.self, CLIPMergeSimple.self, CLIPMergeSubtract.self, CLIPMergeAdd.self,
        CheckpointSave.self, ModelSave.self, CLIPSave.self, VAESave.self,
        // Few-step sampling: the ComfyUI-TCD node pack's node.
        TCDModelSamplingDiscrete.self,
        // Custom-sampling SAMPLER nodes with their sampler's settings.
        SamplerEulerAncestral.self, SamplerEulerAncestralCFGPP.self, SamplerLMS.self, SamplerDPMPP_2S_Ancestral.self,
        SamplerDPMAdaptative.self, SamplerSASolver.self, GITSScheduler.self,
    ]
}
