// Runs a JSON workflow that uses the example pack's nodes next to built-in ones.
//   swift run example-custom-nodes [output-folder]
import ExampleNodes
import Foundation
import Latentflow

let output = CommandLine.arguments.dropFirst().first ?? "output"
let paths = try ModelPaths(baseDirectory: URL(fileURLWithPath: "."), outputDirectory: URL(fileURLWithPath: output))
let engine = try Engine(paths: paths, packs: [ExampleNodes.self])
let workflow = """
    {"1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 16737792}},
     "2": {"class_type": "ExampleImageGrayscale", "inputs": {"image": ["1", 0]}},
     "3": {"class_type": "ExampleImageBrightness", "inputs": {"image": ["2", 0], "factor": 1.5}},
     "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "example_custom_node"}}}
    """
let loaded = try engine.loader.load(Data(workflow.utf8), source: "inline workflow")
let result = try await engine.run(loaded)
for file in engine.writtenFiles(result) { print(file.path) }
