import COpenBLASCore
import Foundation

/// Which of OpenBLAS's kernel families ("cores") runs the products, and a correction for CPUs that
/// OpenBLAS does not know yet.
///
/// A DYNAMIC_ARCH OpenBLAS (Debian's, Homebrew's) picks its kernels by CPU model number when
/// it loads. Debian 12's 0.3.21 takes models newer than it (Emerald Rapids, family 6 model 207)
/// for `Prescott`, its SSE3 kernels: sgemm ran at 36.6 GFLOP/s on two cores of such a host against
/// 194 with `OPENBLAS_CORETYPE=SkylakeX` (`latentflow-tools bench --threads 2`). So when
/// OpenBLAS chose `Prescott` on a CPU with AVX-512 or AVX2+FMA, the first product switches it to
/// the kernels that CPU runs (`SkylakeX`, `Haswell`), through OpenBLAS's own selection with
/// `OPENBLAS_CORETYPE`. A core the user set with that variable stands.
public enum BLASCore {
    /// What OpenBLAS runs now, e.g. "SkylakeX".
    public static var name: String { String(cString: lf_openblas_core_name()) }

    /// The core chosen in place of OpenBLAS's own choice, or nil where it stood. Evaluated once,
    /// before the first product; the executables evaluate it at the top of `main`, since the
    /// switch sets and unsets an environment variable, which other threads must not be reading.
    public static let replacement: String? = {
        let choice = replacement(
            for: name, userSetting: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"],
            hasAVX512: cpuHasAVX512, hasAVX2AndFMA: cpuHasAVX2AndFMA)
        guard let choice, lf_openblas_reselect_core(choice) == 1 else { return nil }
        return name
    }()

    static let cpuHasAVX512 = lf_cpu_has_avx512() == 1
    static let cpuHasAVX2AndFMA = lf_cpu_has_avx2_fma() == 1

    /// The better core for a CPU that OpenBLAS gave its generic x86-64 kernels, or nil.
    static func replacement(for core: String, userSetting: String?, hasAVX512: Bool, hasAVX2AndFMA: Bool)
        -> String?
    {
        guard userSetting == nil, core.caseInsensitiveCompare("Prescott") == .orderedSame else { return nil }
        if hasAVX512 { return "SkylakeX" }
        if hasAVX2AndFMA { return "Haswell" }
        return nil
    }
}
