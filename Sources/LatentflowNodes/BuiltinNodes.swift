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
        // Latent operations.
        LatentApplyOperation.self, LatentApplyOperationCFG.self, LatentOperationTonemapReinhard.self,
        LatentOperationSharpen.self,
        // Utilities.
        PrimitiveString.self, PrimitiveStringMultiline.self, PrimitiveInt.self, PrimitiveFloat.self,
        PrimitiveBoolean.self, PreviewAny.self, RebatchLatents.self, SaveImageWebsocket.self,
        // CLIP vision.
        CLIPVisionLoader.self, CLIPVisionEncode.self,
        // Strings.
        StringConcatenate.self, StringSubstring.self, StringLength.self, CaseConverter.self, StringTrim.self,
        StringReplace.self, StringContains.self, StringCompare.self, RegexMatch.self, RegexExtract.self,
        RegexReplace.self,
        // More mask nodes.
        ImageColorToMask.self, MaskPreview.self,
        // Guidance patches on the MODEL (pre/post-CFG hooks, denoise-mask function) and guiders.
        RescaleCFG.self, CFGZeroStar.self, CFGNorm.self, TCFG.self, EpsilonScaling.self, PerpNeg.self,
        PerpNegGuider.self, DifferentialDiffusion.self, PerturbedAttentionGuidance.self,
        // Image batch, geometry and noise nodes (comfy_extras/nodes_images.py, nodes_rebatch.py).
        ImageBatchNode.self, RepeatImageBatch.self, ImageFromBatch.self, GetImageSize.self, RebatchImages.self,
        ImageCrop.self, ImageFlip.self, ImageRotate.self, ImageStitch.self, ResizeAndPadImage.self,
        ImageScaleToMaxDimension.self, ImageAddNoise.self,
        // Alpha compositing (comfy_extras/nodes_compositing.py).
        SplitImageWithAlpha.self, JoinImageWithAlpha.self, PorterDuffImageComposite.self,
        // Image filters (comfy_extras/nodes_post_processing.py).
        ImageBlend.self,
        // UNet patches (FreeU, Deep Shrink, HyperTile, hypernetworks) and LoRA extraction.
        FreeU.self, FreeU_V2.self, PatchModelAddDownscale.self, HyperTile.self, HypernetworkLoader.self,
        LoraSave.self,
        // Custom-sampling SAMPLER nodes with their sampler's settings.
        SamplerEulerAncestral.self, SamplerEulerAncestralCFGPP.self, SamplerLMS.self, SamplerDPMPP_2S_Ancestral.self,
        SamplerDPMAdaptative.self, SamplerSASolver.self, GITSScheduler.self,
        // SDE and advanced SAMPLER nodes, percent-to-sigma, AddNoise and DualCFGGuider (issue 21).
        SamplerDPMPP_SDE.self, SamplerDPMPP_2M_SDE.self, SamplerDPMPP_3M_SDE.self, SamplerER_SDE.self,
        SamplerEulerCFGpp.self, SamplerLCMUpscale.self, SamplingPercentToSigma.self, AddNoise.self,
        DualCFGGuider.self,
        // Attention-multiply experiments and ModelComputeDtype (issue 21).
        UNetSelfAttentionMultiply.self, UNetCrossAttentionMultiply.self, CLIPAttentionMultiply.self,
        ModelComputeDtype.self, ModelSamplingContinuousEDM.self, ModelSamplingContinuousV.self,
        // Guidance patches APG and Mahiro (issue 21).
        APG.self, Mahiro.self, FreSca.self,
        // Filters, morphology and YCbCr (comfy_extras/nodes_post_processing.py, nodes_morphology.py).
        ImageBlur.self, ImageSharpen.self, Morphology.self, ImageRGBToYUV.self, ImageYUVToRGB.self, ImageQuantize.self,
        // Latent concatenation and cuts (nodes_latent.py), masked conditioning (nodes.py).
        LatentConcat.self, LatentCut.self, ConditioningSetMask.self,
        // Image conditionings (nodes_ip2p.py, nodes_sdupscale.py).
        InstructPixToPixConditioning.self, SD_4XUpscale_Conditioning.self,
        // Files (nodes.py).
        LoadImageOutput.self, SaveAnimatedPNG.self, SaveAnimatedWEBP.self,
        // Self-Attention Guidance (comfy_extras/nodes_sag.py, issue 21).
        SelfAttentionGuidance.self,
        // Token merging (comfy_extras/nodes_tomesd.py, issue 21).
        TomePatchModel.self,
        // Step caching (comfy_extras/nodes_easycache.py, issue 21).
        LazyCacheNode.self, EasyCacheNode.self,
        // Lotus's fixed conditioning (comfy_extras/nodes_lotus.py, issue 21).
        LotusConditioning.self,
        // Style models, unCLIP conditioning and ControlNet text (issue 21).
        StyleModelLoader.self, StyleModelApply.self, CLIPTextEncodeControlnet.self, UnCLIPConditioning.self,
        UnCLIPCheckpointLoader.self,
        // Hooks: keyframes, combining, per-entry conditioning properties (comfy_extras/nodes_hooks.py, issue 21).
        SetHookKeyframes.self, CreateHookKeyframe.self, CreateHookKeyframesInterpolated.self,
        CreateHookKeyframesFromFloats.self, CombineHooks2.self, CombineHooks4.self, CombineHooks8.self,
        ConditioningTimestepsRange.self, ConditioningSetProperties.self, ConditioningSetPropertiesAndCombine.self,
        PairConditioningSetProperties.self, PairConditioningSetPropertiesAndCombine.self,
        PairConditioningCombine.self, ConditioningSetDefaultCombine.self, PairConditioningSetDefaultCombine.self,
        CreateHookLora.self, CreateHookLoraModelOnly.self, CreateHookModelAsLora.self,
        CreateHookModelAsLoraModelOnly.self, SetClipHooks.self,
    ]
}
