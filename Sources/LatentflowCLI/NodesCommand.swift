import ArgumentParser
import Foundation
import Latentflow

struct NodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes", abstract: "List and document the registered nodes.",
        subcommands: [List.self, Show.self, Docs.self, Coverage.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One line per node: class type, category, display name.")
        @OptionGroup var folders: FolderOptions

        func run() throws {
            let registry = try folders.engine().registry
            for classType in registry.classTypes.sorted() {
                let schema = registry.schema(classType)!
                print(
                    "\(classType.padding(toLength: 28, withPad: " ", startingAt: 0)) \(schema.category.padding(toLength: 24, withPad: " ", startingAt: 0)) \(schema.displayName)"
                )
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A node's inputs, outputs and description.")
        @Argument var name: String
        @OptionGroup var folders: FolderOptions

        func run() throws {
            let registry = try folders.engine().registry
            guard let schema = registry.schema(name) else {
                throw ValidationError("unknown node '\(name)'; `latentflow nodes list` shows the registered ones")
            }
            print(NodeDocumentation.page(for: schema, pack: registry.pack(of: name)))
        }
    }

    struct Docs: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write one Markdown page per node, and an index.")
        @Option(help: "Folder to write (replaced).") var out = "nodes-docs"
        @OptionGroup var folders: FolderOptions

        func run() throws {
            let registry = try folders.engine().registry
            let folder = URL(fileURLWithPath: out)
            try? FileManager.default.removeItem(at: folder)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var entries: [(schema: NodeSchema, pack: String?)] = []
            for classType in registry.classTypes {
                let schema = registry.schema(classType)!
                entries.append((schema, registry.pack(of: classType)))
                try Data(NodeDocumentation.page(for: schema, pack: registry.pack(of: classType)).utf8)
                    .write(to: folder.appendingPathComponent("\(classType).md"))
            }
            try Data(NodeDocumentation.index(entries).utf8).write(to: folder.appendingPathComponent("README.md"))
            print("wrote \(entries.count) node pages to \(out)")
        }
    }

    struct Coverage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare the registered nodes with a snapshot of ComfyUI's /object_info.",
            discussion: """
                Prints the counts and every missing node or schema difference; --out also writes a Markdown \
                page. The repository's snapshot of ComfyUI's SD1.5/SD2 nodes is \
                Tests/LatentflowEndToEndTests/Fixtures/comfyui-object-info-sd.json.
                """)
        @Option(help: "ComfyUI /object_info JSON to compare with.") var snapshot: String
        @Option(help: "Markdown page to write.") var out: String?
        @OptionGroup var folders: FolderOptions

        func run() throws {
            let registry = try folders.engine().registry
            let json = try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: snapshot)))
            let coverage = try NodeCoverage(snapshot: json, registry: registry)
            for entry in coverage.entries where entry.status != .implemented {
                print("\(entry.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(entry.classType)")
                for difference in entry.differences { print("          \(difference)") }
            }
            print(
                "\(coverage.entries.count) ComfyUI nodes: \(coverage.count(.implemented)) implemented, "
                    + "\(coverage.count(.differs)) differ, \(coverage.count(.missing)) missing")
            if let out {
                try Data(coverage.markdown(snapshotName: snapshot).utf8).write(
                    to: URL(fileURLWithPath: out), options: .atomic)
            }
        }
    }
}
