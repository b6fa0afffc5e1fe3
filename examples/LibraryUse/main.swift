import Latentflow

AllocatorPolicy.keepFreedBlocksForReuse()  // first thing in main (Engine applies it too); see Performance
let configuration = try EngineConfiguration.resolve()  // flags, then LATENTFLOW_* variables, then defaults
let engine = try Engine(configuration: configuration, packs: [])  // third-party packs go in `packs`
let result = try await engine.run(try engine.load(URL(fileURLWithPath: "workflows/lcm-tiny.json")))
print(engine.writtenFiles(result).map(\.path))
