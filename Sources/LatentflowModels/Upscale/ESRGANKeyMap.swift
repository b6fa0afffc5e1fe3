import LatentflowTensor

/// The newer RRDBNet key layouts renamed to the original ESRGAN layout (`model.N...`) that
/// `RRDBNet` reads: Real-ESRGAN / basicsr (`conv_first`, `body.N.rdbK.convJ`, `conv_body`,
/// `conv_upN`, `conv_hr`, `conv_last`) and BSRGAN / RealSR (`RRDB_trunk.N.RDBK.convJ`,
/// `trunk_conv`, `upconvN`, `HRconv`).
///
/// Matches: spandrel `architectures/ESRGAN/__init__.py` `_to_old_arch` / `_new_to_old_arch`
/// (keys outside the table are dropped, as there).
enum ESRGANKeyMap {
    /// Whole-layer renames; `{NB}` is the trunk conv after the last block, `{UP}` the upconv
    /// count times 3 (the old layout's index of the last upconv).
    static let layers: [String: String] = [
        "conv_first": "model.0",
        "conv_body": "model.1.sub.{NB}", "trunk_conv": "model.1.sub.{NB}",
        "conv_hr": "model.{UP+2}", "HRconv": "model.{UP+2}",
        "conv_last": "model.{UP+4}",
    ]
    /// Dense-block prefixes: `<trunk>.N.<rdb>K.convJ` → `model.1.sub.N.RDBK.convJ.0`.
    static let blockLayouts: [(trunk: String, rdb: String)] = [("body", "rdb"), ("RRDB_trunk", "RDB")]
    /// Upconv names: `<name>N` → `model.{3N}`.
    static let upconvNames = ["conv_up", "upconv"]

    /// `tensors` in the old layout; an old-layout dict (no `conv_first.weight`) is returned as is.
    static func toOldLayout(_ tensors: [String: Tensor]) -> [String: Tensor] {
        guard tensors["conv_first.weight"] != nil else { return tensors }
        var blocks = 0
        var upconvs = 0
        for key in tensors.keys {
            let parts = key.split(separator: ".").map(String.init)
            if parts.count == 5, blockLayouts.contains(where: { $0.trunk == parts[0] }), let n = Int(parts[1]) {
                blocks = max(blocks, n + 1)
            }
            if parts.count == 2, let n = upconvIndex(parts[0]) { upconvs = max(upconvs, n) }
        }
        var result: [String: Tensor] = [:]
        for (key, value) in tensors {
            if let renamed = oldName(key, blocks: blocks, upconvs: upconvs) { result[renamed] = value }
        }
        return result
    }

    private static func upconvIndex(_ name: String) -> Int? {
        for prefix in upconvNames where name.hasPrefix(prefix) {
            let digits = name.dropFirst(prefix.count)
            if digits.count == 1, let n = Int(digits) { return n }
        }
        return nil
    }

    private static func oldName(_ key: String, blocks: Int, upconvs: Int) -> String? {
        let parts = key.split(separator: ".").map(String.init)
        if parts.count == 2, let layer = layers[parts[0]] {
            let name = layer.replacingOccurrences(of: "{NB}", with: "\(blocks)")
                .replacingOccurrences(of: "{UP+2}", with: "\(upconvs * 3 + 2)")
                .replacingOccurrences(of: "{UP+4}", with: "\(upconvs * 3 + 4)")
            return name + "." + parts[1]
        }
        if parts.count == 2, let n = upconvIndex(parts[0]) { return "model.\(n * 3).\(parts[1])" }
        if parts.count == 5, let layout = blockLayouts.first(where: { $0.trunk == parts[0] }),
            Int(parts[1]) != nil, parts[2].hasPrefix(layout.rdb), parts[3].hasPrefix("conv")
        {
            let rdb = parts[2].dropFirst(layout.rdb.count)
            return "model.1.sub.\(parts[1]).RDB\(rdb).\(parts[3]).0.\(parts[4])"
        }
        return nil
    }
}
