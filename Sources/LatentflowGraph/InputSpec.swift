/// Where a COMBO input's options come from.
public enum ComboOptions: Sendable {
    /// A fixed list, as ComfyUI's sampler names.
    case fixed([String])
    /// The files of a models folder (`checkpoints`, `loras`, ...) or `input`, as found at validation time.
    case files(folder: String)
    /// The files of a models folder, then names the node derives from the catalog (VAELoader's
    /// `taesd` when `vae_approx` holds both halves, and `pixel_space`).
    case filesAndNames(folder: String, names: @Sendable (FileCatalog) -> [String])

    /// The choices as the catalog has them now.
    public func choices(in catalog: FileCatalog) -> [String] {
        switch self {
        case .fixed(let list): return list
        case .files(let folder): return catalog.files(in: folder)
        case .filesAndNames(let folder, let names): return catalog.files(in: folder) + names(catalog)
        }
    }

    /// The models folder the choices list, if any.
    public var folder: String? {
        switch self {
        case .fixed: return nil
        case .files(let folder), .filesAndNames(let folder, _): return folder
        }
    }
}

/// One input of a node, with everything validation and the UI converter need to know.
public struct InputSpec: Sendable {
    public var name: String
    public var type: PortType
    public var isOptional = false
    public var defaultValue: JSONValue?
    public var min: Double?
    public var max: Double?
    public var step: Double?
    public var multiline = false
    public var options: ComboOptions?
    /// A widget type shown as a socket (no widget value in UI-format files).
    public var forceInput = false
    /// Not evaluated until the node asks for it (`lazyInputsNeeded`).
    public var isLazy = false
    /// The UI adds a hidden "control after generate" widget after this one (seeds).
    public var controlAfterGenerate = false
    /// An INT that goes up to 2^64 − 1, as ComfyUI's seeds do; values past Int.max reach the node
    /// as the same 64 bits in an Int (read them back with `UInt64(bitPattern:)`).
    public var takesUnsigned64 = false
    /// The UI adds a hidden "upload" widget after this one (LoadImage's image).
    public var imageUpload = false
    /// ComfyUI's `image_folder` beside `image_upload` (LoadImageOutput's "output").
    public var imageFolder: String?
    public var tooltip: String?

    public init(name: String, type: PortType) {
        self.name = name
        self.type = type
    }

    /// True when a UI-format file stores this input in `widgets_values`.
    public var isWidget: Bool { type.isWidget && !forceInput }
}

/// Anything that declares an input: a typed `Input<T>` or a raw spec.
public protocol InputDeclaration: Sendable {
    var spec: InputSpec { get }
}

extension InputSpec: InputDeclaration {
    public var spec: InputSpec { self }
}

/// A typed input: declared once in a node, used both in its schema and to read the value in
/// `execute`, so the name and the Swift type cannot drift apart.
public struct Input<Value: PortValue>: InputDeclaration {
    public var spec: InputSpec
    public var name: String { spec.name }

    /// A socket input of the value's port type (MODEL, LATENT, ...).
    public init(_ name: String, optional: Bool = false, lazy: Bool = false, tooltip: String? = nil) {
        spec = InputSpec(name: name, type: Value.portType)
        spec.isOptional = optional
        spec.isLazy = lazy
        spec.tooltip = tooltip
    }

    /// A socket input of an explicit (possibly union or custom) port type.
    public init(_ name: String, type: PortType, optional: Bool = false, lazy: Bool = false, tooltip: String? = nil) {
        self.init(name, optional: optional, lazy: lazy, tooltip: tooltip)
        spec.type = type
    }

    init(spec: InputSpec) { self.spec = spec }

    /// The same input with no default (ComfyUI's `io.Int.Input` without `default=`: the workflow
    /// must give the value).
    public var withoutDefault: Input {
        var copy = self
        copy.spec.defaultValue = nil
        return copy
    }

    /// The same input, optional.
    public var optional: Input {
        var copy = self
        copy.spec.isOptional = true
        return copy
    }
}

extension Input where Value == Int {
    public static func int(
        _ name: String, default value: Int, min: Int? = nil, max: Int? = nil, step: Int? = nil,
        controlAfterGenerate: Bool = false, forceInput: Bool = false, tooltip: String? = nil
    ) -> Input {
        var spec = InputSpec(name: name, type: .int)
        spec.defaultValue = .int(Int64(value))
        spec.min = min.map(Double.init)
        spec.max = max.map(Double.init)
        spec.step = step.map(Double.init)
        spec.controlAfterGenerate = controlAfterGenerate
        spec.forceInput = forceInput
        spec.tooltip = tooltip
        return Input(spec: spec)
    }
}

extension Input where Value == Int {
    /// ComfyUI's seed widget: 0 through 2^64 − 1 with "control after generate". The node reads an Int
    /// whose bits are the seed (`UInt64(bitPattern: Int64(seed))`), as torch's `manual_seed` does.
    public static func seed(_ name: String, tooltip: String? = nil) -> Input {
        var input = Input.int(name, default: 0, min: 0, controlAfterGenerate: true, tooltip: tooltip)
        input.spec.max = Double(UInt64.max)
        input.spec.takesUnsigned64 = true
        return input
    }
}

extension Input where Value == Double {
    public static func float(
        _ name: String, default value: Double, min: Double? = nil, max: Double? = nil,
        step: Double? = nil, forceInput: Bool = false, tooltip: String? = nil
    ) -> Input {
        var spec = InputSpec(name: name, type: .float)
        spec.defaultValue = .double(value)
        spec.min = min
        spec.max = max
        spec.step = step
        spec.forceInput = forceInput
        spec.tooltip = tooltip
        return Input(spec: spec)
    }
}

extension Input where Value == Bool {
    public static func boolean(_ name: String, default value: Bool, tooltip: String? = nil) -> Input {
        var spec = InputSpec(name: name, type: .boolean)
        spec.defaultValue = .bool(value)
        spec.tooltip = tooltip
        return Input(spec: spec)
    }
}

extension Input where Value == String {
    public static func string(
        _ name: String, default value: String = "", multiline: Bool = false,
        forceInput: Bool = false, tooltip: String? = nil
    ) -> Input {
        var spec = InputSpec(name: name, type: .string)
        spec.defaultValue = .string(value)
        spec.multiline = multiline
        spec.forceInput = forceInput
        spec.tooltip = tooltip
        return Input(spec: spec)
    }

    /// A choice among fixed options; the default is the first unless given.
    public static func combo(_ name: String, options: [String], default value: String? = nil, tooltip: String? = nil)
        -> Input
    {
        var spec = InputSpec(name: name, type: .combo)
        spec.options = .fixed(options)
        spec.defaultValue = (value ?? options.first).map(JSONValue.string)
        spec.tooltip = tooltip
        return Input(spec: spec)
    }

    /// A choice among the files of a folder and the names `names` adds (VAELoader's `taesd`).
    public static func files(
        _ name: String, folder: String, plus names: @escaping @Sendable (FileCatalog) -> [String],
        tooltip: String? = nil
    ) -> Input {
        var spec = InputSpec(name: name, type: .combo)
        spec.options = .filesAndNames(folder: folder, names: names)
        spec.tooltip = tooltip
        return Input(spec: spec)
    }

    /// A choice among the files of a folder (`checkpoints`, `loras`, `vae`, `input`, ...).
    /// `imageFolder`: where the frontend's upload button puts files (ComfyUI's `image_folder`;
    /// nil: its default, input).
    public static func files(
        _ name: String, folder: String, imageUpload: Bool = false, imageFolder: String? = nil, tooltip: String? = nil
    ) -> Input {
        var spec = InputSpec(name: name, type: .combo)
        spec.options = .files(folder: folder)
        spec.imageUpload = imageUpload
        spec.imageFolder = imageFolder
        spec.tooltip = tooltip
        return Input(spec: spec)
    }
}

/// One output of a node.
public struct OutputSpec: Sendable {
    public var name: String
    public var type: PortType
    /// The node returns a list for this output (ComfyUI's OUTPUT_IS_LIST).
    public var isList = false
    public var tooltip: String?

    public init(name: String, type: PortType, isList: Bool = false, tooltip: String? = nil) {
        (self.name, self.type, self.isList, self.tooltip) = (name, type, isList, tooltip)
    }
}

/// A typed output declaration.
public struct Output<Value: PortValue>: Sendable {
    public var spec: OutputSpec

    public init(_ name: String? = nil, isList: Bool = false, tooltip: String? = nil) {
        spec = OutputSpec(name: name ?? Value.portType.name, type: Value.portType, isList: isList, tooltip: tooltip)
    }
}
