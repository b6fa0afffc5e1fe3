// Composes a pipeline in Swift with typed ports, then validates and runs it like any workflow.
//   swift run example-custom-pipeline [output-folder]
import ExampleNodes
import Foundation
import Latentflow

let output = CommandLine.arguments.dropFirst().first ?? "output"
let paths = try ModelPaths(baseDirectory: URL(fileURLWithPath: "."), outputDirectory: URL(fileURLWithPath: output))
let engine = try Engine(paths: paths, packs: [ExampleNodes.self])

let g = GraphBuilder()
let canvas: OutputRef<ImageBatch> = g.emptyImage(width: 96, height: 64, color: 0x3366CC)
let small = g.imageScaleBy(canvas, 0.5, method: "area")
let grey = g.grayscale(small)  // a OutputRef<ImageBatch>: passing a OutputRef<Mask> would not compile
g.saveImage(g.brightness(grey, 1.25), prefix: "example_pipeline")

let report = engine.executor.validate(g.workflow)
guard report.isValid else { fatalError("\(WorkflowValidationFailure(report: report))") }
print(g.workflow.apiJSON.serialized(pretty: true))
let result = try await engine.executor.run(g.workflow)
for file in engine.writtenFiles(result) { print(file.path) }
