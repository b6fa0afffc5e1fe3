/// ComfyUI's annotated file names (`folder_paths.annotated_filepath`): `name.png [output]`,
/// `[input]` or `[temp]` say which folder a name is in, overriding the default one.
public enum AnnotatedName {
    /// The plain name and the folder type its annotation names (nil without one).
    public static func split(_ name: String) -> (name: String, type: String?) {
        for type in ["output", "input", "temp"] where name.hasSuffix(" [\(type)]") {
            return (String(name.dropLast(type.count + 3)), type)
        }
        return (name, nil)
    }
}
