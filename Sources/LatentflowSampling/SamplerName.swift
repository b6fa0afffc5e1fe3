/// ComfyUI's sampler names (`KSampler.SAMPLERS`), in its order: the complete menu, implemented
/// or not. Which algorithm runs each name, and whether one does, is `SamplerTable`'s business.
public enum SamplerName: String, Sendable, CaseIterable {
    case euler, eulerCFGPP = "euler_cfg_pp", eulerAncestral = "euler_ancestral"
    case eulerAncestralCFGPP = "euler_ancestral_cfg_pp", heun, heunpp2, dpm2 = "dpm_2"
    case dpm2Ancestral = "dpm_2_ancestral", lms, dpmFast = "dpm_fast", dpmAdaptive = "dpm_adaptive"
    case dpmpp2sAncestral = "dpmpp_2s_ancestral", dpmpp2sAncestralCFGPP = "dpmpp_2s_ancestral_cfg_pp"
    case dpmppSDE = "dpmpp_sde", dpmppSDEGPU = "dpmpp_sde_gpu", dpmpp2m = "dpmpp_2m"
    case dpmpp2mCFGPP = "dpmpp_2m_cfg_pp", dpmpp2mSDE = "dpmpp_2m_sde", dpmpp2mSDEGPU = "dpmpp_2m_sde_gpu"
    case dpmpp2mSDEHeun = "dpmpp_2m_sde_heun", dpmpp2mSDEHeunGPU = "dpmpp_2m_sde_heun_gpu"
    case dpmpp3mSDE = "dpmpp_3m_sde", dpmpp3mSDEGPU = "dpmpp_3m_sde_gpu", ddpm, lcm, ipndm, ipndmV = "ipndm_v"
    case deis, resMultistep = "res_multistep", resMultistepCFGPP = "res_multistep_cfg_pp"
    case resMultistepAncestral = "res_multistep_ancestral"
    case resMultistepAncestralCFGPP = "res_multistep_ancestral_cfg_pp", gradientEstimation = "gradient_estimation"
    case gradientEstimationCFGPP = "gradient_estimation_cfg_pp", erSDE = "er_sde", seeds2 = "seeds_2"
    case seeds3 = "seeds_3", saSolver = "sa_solver", saSolverPECE = "sa_solver_pece", ddim
    case uniPC = "uni_pc", uniPCBH2 = "uni_pc_bh2"
}
