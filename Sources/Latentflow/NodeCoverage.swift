import LatentflowGraph

/// Which of ComfyUI's nodes Latentflow has, and where their schemas differ: the registry compared
/// with a snapshot of ComfyUI's `/object_info` (the `latentflow nodes coverage` command and the
/// coverage test). Names, types, optionality, defaults, ranges, combo options and outputs count;
/// display names, descriptions and tooltips do not. A combo over a model folder is written
/// `["<folder:NAME>"]` in the snapshot, since its files are the user's.
public struct NodeCoverage: Sendable {
    public enum Status: String, Sendable { case implemented, differs, missing }

    public struct Entry: Sendable {
        public let classType: String
        public let category: String
        public let status: Status
        public let differences: [String]
    }

    public let entries: [Entry]

    public init(snapshot: JSONValue, registry: NodeRegistry) throws {
        guard let classes = snapshot.objectPairs else {
            throw ConfigurationError(
                "the coverage snapshot must be an object of ComfyUI node entries, got \(snapshot.kindName)")
        }
        entries = classes.map { classType, comfy in
            let category = comfy["category"]?.stringValue ?? ""
            guard let ours = registry.schema(classType) else {
                return Entry(classType: classType, category: category, status: .missing, differences: [])
            }
            let differences = Self.differences(ours, comfy) + Self.refusedOptions(registry.node(classType)!)
            return Entry(
                classType: classType, category: category, status: differences.isEmpty ? .implemented : .differs,
                differences: differences)
        }
    }

    public func count(_ status: Status) -> Int { entries.filter { $0.status == status }.count }

    static func differences(_ ours: NodeSchema, _ comfy: JSONValue) -> [String] {
        var found: [String] = []
        var comfyNames: Set<String> = []
        for section in ["required", "optional"] {
            for (name, declaration) in comfy["input"]?[section]?.objectPairs ?? [] {
                comfyNames.insert(name)
                guard let spec = ours.input(named: name) else {
                    found.append("input '\(name)' (\(section) in ComfyUI) is missing")
                    continue
                }
                if spec.isOptional != (section == "optional") {
                    found.append("input '\(name)' is \(section) in ComfyUI")
                }
                found += inputDifferences(spec, declaration).map { "input '\(name)': \($0)" }
            }
        }
        for spec in ours.inputs where !comfyNames.contains(spec.name) && !spec.isOptional && spec.defaultValue == nil {
            found.append("input '\(spec.name)' is required here but ComfyUI has no such input")
        }
        let comfyOutputs = comfy["output"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let ourOutputs = ours.outputs.map(\.type.name)
        if comfyOutputs != ourOutputs {
            found.append("outputs are \(ourOutputs), ComfyUI's are \(comfyOutputs)")
        }
        return found
    }

    /// Options a node lists but refuses at validation ("not implemented yet"): listed options must work.
    static func refusedOptions(_ node: any Node.Type) -> [String] {
        node.schema.inputs.flatMap { spec -> [String] in
            guard case .fixed(let options)? = spec.options else { return [] }
            return options.compactMap { option in
                node.validate(NodeConstants([spec.name: option]), environment: ExecutionEnvironment())
                    .map { _ in "input '\(spec.name)': option '\(option)' is listed but refused" }
            }
        }
    }

    static func inputDifferences(_ spec: InputSpec, _ declaration: JSONValue) -> [String] {
        guard let parts = declaration.arrayValue, let type = parts.first else { return ["unreadable in the snapshot"] }
        var found: [String] = []
        if let options = type.arrayValue?.compactMap(\.stringValue) {
            found += comboDifferences(spec, options)
        } else if let name = type.stringValue, name != spec.type.name {
            found.append("type is \(spec.type.name), ComfyUI's is \(name)")
        }
        let settings = parts.count > 1 ? parts[1] : .object([])
        let ours: [String: Double?] = ["min": spec.min, "max": spec.max, "step": spec.step]
        for key in ["min", "max", "step"] {
            guard let theirs = settings[key]?.doubleValue else { continue }
            if let mine = ours[key] ?? nil, sameNumber(mine, theirs) { continue }
            found.append("\(key) is \((ours[key] ?? nil).map { "\($0)" } ?? "unset"), ComfyUI's is \(theirs)")
        }
        if let theirs = settings["default"], !sameDefault(spec.defaultValue, theirs) {
            found.append(
                "default is \(spec.defaultValue?.serialized() ?? "unset"), ComfyUI's is \(theirs.serialized())")
        }
        if (settings["multiline"]?.boolValue ?? false) != spec.multiline {
            found.append("multiline is \(spec.multiline) here")
        }
        return found
    }

    static func comboDifferences(_ spec: InputSpec, _ options: [String]) -> [String] {
        if options.count == 1, options[0].hasPrefix("<folder:"), options[0].hasSuffix(">") {
            let folder = String(options[0].dropFirst("<folder:".count).dropLast())
            return spec.options?.folder == folder
                ? []
                : ["lists \(spec.options?.folder.map { "the \($0) folder" } ?? "no folder"), ComfyUI's lists \(folder)"]
        }
        guard case .fixed(let ours)? = spec.options else {
            return ["is not a fixed combo here (ComfyUI offers \(options.count) options)"]
        }
        if ours == options { return [] }
        let missing = options.filter { !ours.contains($0) }, extra = ours.filter { !options.contains($0) }
        if missing.isEmpty && extra.isEmpty { return ["options are in another order"] }
        return [
            [missing.isEmpty ? nil : "missing options \(missing)", extra.isEmpty ? nil : "extra options \(extra)"]
                .compactMap { $0 }.joined(separator: "; ")
        ]
    }

    static func sameNumber(_ a: Double, _ b: Double) -> Bool { a == b || abs(a - b) <= 1e-9 * max(abs(a), abs(b)) }

    static func sameDefault(_ ours: JSONValue?, _ theirs: JSONValue) -> Bool {
        guard let ours else { return false }
        if let a = ours.doubleValue, let b = theirs.doubleValue, ours.boolValue == nil, theirs.boolValue == nil {
            return sameNumber(a, b)
        }
        return ours == theirs
    }

    /// The coverage page: counts, then one row per ComfyUI node.
    public func markdown(snapshotName: String) -> String {
        var lines = [
            "# Coverage of ComfyUI's SD1.5/SD2 nodes", "",
            "Generated by `latentflow nodes coverage --snapshot \(snapshotName)`: the registered nodes against a snapshot",
            "of ComfyUI's `/object_info` (names, types, defaults, ranges, options, outputs).", "",
            "\(entries.count) nodes in the snapshot: \(count(.implemented)) implemented as ComfyUI declares them, "
                + "\(count(.differs)) with schema differences, \(count(.missing)) missing.", "",
            "| node | category | status | differences |", "|---|---|---|---|",
        ]
        for entry in entries.sorted(by: { ($0.category, $0.classType) < ($1.category, $1.classType) }) {
            let notes = entry.differences.joined(separator: "; ").replacingOccurrences(of: "|", with: "\\|")
            lines.append("| `\(entry.classType)` | \(entry.category) | \(entry.status.rawValue) | \(notes) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
