import Foundation
import LatentflowGraph
import LatentflowTestSupport
import XCTest

/// The scenarios of ComfyUI's `tests/execution/test_execution.py` that apply without a server,
/// re-created with the stub nodes.
final class ExecutionConformanceTests: XCTestCase {
    var executor: Executor!
    var output: URL!

    override func setUpWithError() throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-exec-\(UUID().uuidString)")
        let registry = try NodeRegistry(packs: [StubNodes.self])
        executor = Executor(registry: registry, environment: ExecutionEnvironment(outputDirectory: output))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: output) }

    // 1. Lazy evaluation: an unused branch never runs.
    func testLazyInputSkipsUnusedBranch() async throws {
        let g = lazyMixGraph(mask: 0.0)
        let result = try await executor.run(g.0.workflow)
        XCTAssertEqual(stubMeans(result, g.out), [0])
        XCTAssertTrue(result.executed.contains(g.black))
        XCTAssertFalse(result.executed.contains(g.white), "the white image is never needed")
    }

    // 2 and 3. Full and partial cache reuse.
    func testFullAndPartialCache() async throws {
        let g = lazyMixGraph(mask: 0.5)
        let first = try await executor.run(g.0.workflow)
        XCTAssertEqual(Set(first.executed).count, 5)
        XCTAssertEqual(stubMeans(first, g.out)[0], 0.5, accuracy: 1e-6)
        let second = try await executor.run(g.0.workflow)
        XCTAssertEqual(second.executed, [], "an identical workflow runs nothing")
        g.0.set("3", "value", 0.25)
        let third = try await executor.run(g.0.workflow)
        XCTAssertEqual(Set(third.executed), ["3", g.mix, g.out], "only the changed mask and what depends on it re-run")
        XCTAssertEqual(stubMeans(third, g.out)[0], 0.25, accuracy: 1e-6)
    }

    func testCacheIsKeyedByStructureNotNodeIds() async throws {
        let g = lazyMixGraph(mask: 0.5)
        _ = try await executor.run(g.0.workflow)
        var renumbered = g.0.workflow
        renumbered.nodes = renumbered.nodes.map { node in
            var copy = node
            copy.id = "n" + node.id
            copy.inputs = node.inputs.map { input in
                if case let .link(source, slot) = input.value {
                    return (input.name, .link(nodeId: "n" + source, slot: slot))
                }
                return input
            }
            return copy
        }
        let again = try await executor.run(renumbered)
        XCTAssertEqual(again.executed, [])
    }

    // 5 and 7. Custom validation decides on literals and lifts the standard range checks.
    func testCustomValidationOfLiterals() throws {
        for (value, accepted) in [
            (JSONValue.double(5.0), true), (.int(5), false), (.string("foo"), false), (.double(7.0), false),
        ] {
            let b = GraphBuilder()
            let image = b.add("StubImage", ["content": "BLACK", "height": 8, "width": 8, "batch_size": 1])
            let node = b.add("TestCustomValidation", ["input1": image.out(0), "input2": value])
            b.add("StubOutput", ["images": node.out(0)])
            let report = executor.validate(b.workflow)
            XCTAssertEqual(report.isValid, accepted, "\(value): \(report.errors)")
            if !accepted { XCTAssertEqual(report.errors.first?.kind, .customValidationFailed) }
        }
    }

    // 6. Link types are checked, union types match by membership.
    func testLinkTypeValidation() throws {
        let b = GraphBuilder()
        let int = b.add("StubInt", ["value": 1])
        let mask = b.add("StubMask", ["value": 1.0, "height": 8, "width": 8, "batch_size": 1])
        let float = b.add("StubFloat", ["value": 1.0])
        let wrong = b.add("StubInvertImage", id: "invert", ["image": int.out(0)])
        b.add("StubOutput", ["images": wrong.out(0)])
        let union = b.add("TestCustomValidation", ["input1": float.out(0), "input2": mask.out(0)])
        b.add("StubOutput", ["images": union.out(0)])
        let report = executor.validate(b.workflow)
        let mismatches = report.errors.filter { $0.kind == .returnTypeMismatch }
        XCTAssertEqual(mismatches.map { $0.location?.nodeId }, ["invert"], "\(report.errors)")
        XCTAssertTrue(
            mismatches[0].description.contains("received_type(INT) mismatch input_type(IMAGE)"),
            mismatches[0].description)
        XCTAssertTrue(mismatches[0].description.contains("input 'image'"))
    }

    // 8. A cycle is a validation error, not a hang.
    func testCycleIsReported() throws {
        let b = GraphBuilder()
        b.add("StubInvertImage", id: "a", ["image": WorkflowInput.link(nodeId: "b", slot: 0)])
        b.add("StubInvertImage", id: "b", ["image": WorkflowInput.link(nodeId: "a", slot: 0)])
        b.add("StubOutput", ["images": WorkflowInput.link(nodeId: "a", slot: 0)])
        let report = executor.validate(b.workflow)
        XCTAssertFalse(report.isRunnable)
        XCTAssertEqual(
            Set(report.errors.filter { $0.kind == .dependencyCycle }.compactMap { $0.location?.nodeId }), ["a", "b"])
    }

    // 9. A link to a missing node fails its branch; another valid output still runs.
    func testMissingNodeOnOneBranch() async throws {
        let b = GraphBuilder()
        let image = b.add("StubImage", ["content": "WHITE", "height": 8, "width": 8, "batch_size": 1])
        b.add("StubOutput", id: "good", ["images": image.out(0)])
        b.add("StubOutput", id: "broken", ["images": WorkflowInput.link(nodeId: "404", slot: 0)])
        let result = try await executor.run(b.workflow)
        XCTAssertEqual(stubMeans(result, "good"), [1])
        XCTAssertEqual(result.validation.validOutputs, ["good"])
        let error = try XCTUnwrap(result.validation.errors.first)
        XCTAssertEqual(error.location?.nodeId, "broken")
        XCTAssertEqual(error.location?.input, "images")
        XCTAssertTrue(error.description.contains("404"))
    }

    // 10. Fingerprints: constant → cached; "always changed" (ComfyUI's NaN) → re-runs every time.
    func testFingerprintControlsReruns() async throws {
        for (shouldChange, expectRerun) in [(false, false), (true, true)] {
            let b = GraphBuilder()
            let image = b.add("StubImage", ["content": "WHITE", "height": 8, "width": 8, "batch_size": 1])
            let node = b.add(
                "TestCustomIsChanged", id: "changed", ["image": image.out(0), "should_change": shouldChange])
            b.add("StubOutput", id: "out", ["images": node.out(0)])
            _ = try await executor.run(b.workflow)
            let second = try await executor.run(b.workflow)
            XCTAssertEqual(second.executed.contains("changed"), expectRerun)
            XCTAssertEqual(second.executed.contains("out"), expectRerun, "descendants follow")
            XCTAssertFalse(second.executed.contains("1"), "upstream stays cached")
        }
    }

    // 11. The fingerprint sees constants only.
    func testFingerprintSeesConstantsOnly() async throws {
        let b = GraphBuilder()
        let image = b.add("StubImage", ["content": "WHITE", "height": 8, "width": 8, "batch_size": 1])
        let node = b.add("TestIsChangedWithConstants", ["image": image.out(0), "value": 0.25])
        b.add("StubOutput", id: "out", ["images": node.out(0)])
        let first = try await executor.run(b.workflow)
        XCTAssertEqual(TestIsChangedWithConstants.seenConstants, ["value"])
        XCTAssertEqual(stubMeans(first, "out")[0], 0.25, accuracy: 1e-6)
        let second = try await executor.run(b.workflow)
        XCTAssertEqual(second.executed, [])
    }

    // 12. Undeclared inputs reach the node.
    func testUndeclaredInputsArePassed() async throws {
        let b = GraphBuilder()
        let values = [0.0, 1.0, 0.5, 0.5]
        let images = values.map { b.add("StubConstantImage", ["value": $0, "height": 8, "width": 8, "batch_size": 1]) }
        var inputs: [String: (any GraphArgument)?] = [:]
        for (i, image) in images.enumerated() { inputs["input\(i + 1)"] = image.out(0) }
        let average = b.add("TestVariadicAverage", inputs)
        b.add("StubOutput", id: "out", ["images": average.out(0)])
        let result = try await executor.run(b.workflow)
        XCTAssertEqual(stubMeans(result, "out")[0], 0.5, accuracy: 1e-6)
    }

    // List semantics: a list output makes its consumers run once per element.
    func testListExpansion() async throws {
        let b = GraphBuilder()
        let list = b.add("TestMakeListNode", ["value1": 0.5, "value2": 1.5, "value3": 2.5])
        b.add("StubListOutput", id: "out", ["value": list.out(0)])
        let result = try await executor.run(b.workflow)
        XCTAssertEqual(stubMeans(result, "out"), [1, 3, 5])
    }

    // 16. One producer feeding two outputs runs once.
    func testOutputReuse() async throws {
        let b = GraphBuilder()
        let image = b.add("StubImage", ["content": "WHITE", "height": 8, "width": 8, "batch_size": 1])
        b.add("StubOutput", id: "s1", ["images": image.out(0)])
        b.add("StubOutput", id: "s2", ["images": image.out(0)])
        let result = try await executor.run(b.workflow)
        XCTAssertEqual(result.executed.filter { $0 == image.id }.count, 1)
        XCTAssertEqual(result.ui.count, 2)
        XCTAssertEqual(result.ui.flatMap { $0.ui["images"]?.arrayValue ?? [] }.count, 2)
    }

    // 19. Partial execution: only the listed outputs and their ancestors run.
    func testPartialExecutionTargets() async throws {
        let b = GraphBuilder()
        let white = b.add("StubImage", ["content": "WHITE", "height": 8, "width": 8, "batch_size": 1])
        let black = b.add("StubImage", ["content": "BLACK", "height": 8, "width": 8, "batch_size": 1])
        b.add("StubOutput", id: "w", ["images": white.out(0)])
        b.add("StubOutput", id: "k", ["images": black.out(0)])
        let result = try await executor.run(b.workflow, targets: ["k"])
        XCTAssertEqual(Set(result.executed), [black.id, "k"])
        XCTAssertFalse(executor.validate(b.workflow, targets: []).isRunnable, "an empty target list runs nothing")
    }

    func testNoOutputsIsAnError() {
        let b = GraphBuilder()
        b.add("StubImage", ["content": "WHITE", "height": 8, "width": 8, "batch_size": 1])
        let report = executor.validate(b.workflow)
        XCTAssertEqual(report.errors.map(\.kind), [.noOutputs])
        XCTAssertEqual(report.json["error"]?["type"], .string("prompt_no_outputs"))
    }

    func testCancellationStopsBetweenNodes() async throws {
        let g = lazyMixGraph(mask: 0.5)
        let flag = CancellationFlag()
        flag.cancel()
        do {
            _ = try await executor.run(g.0.workflow, cancellation: flag)
            XCTFail("expected cancellation")
        } catch is ExecutionCancelled {}
    }

    func testCacheBudgetEvictsLeastRecentlyUsed() async throws {
        // One 8x8x3 float image is 768 bytes; a budget of 1000 keeps one image output.
        let registry = try NodeRegistry(packs: [StubNodes.self])
        let small = Executor(
            registry: registry, environment: ExecutionEnvironment(outputDirectory: output),
            cache: OutputCache(budgetBytes: 1000))
        func graph(_ value: Double, inverted: Bool = false) -> Workflow {
            let b = GraphBuilder()
            var image = b.add("StubConstantImage", ["value": value, "height": 8, "width": 8, "batch_size": 1])
            if inverted { image = b.add("StubInvertImage", ["image": image.out(0)]) }
            b.add("StubOutput", ["images": image.out(0)])
            return b.workflow
        }
        _ = try await small.run(graph(0.1))
        _ = try await small.run(graph(0.2))
        XCTAssertLessThanOrEqual(small.cache.totalBytes, 1000)
        // A new consumer of the first image: the image must be recomputed, it was evicted.
        let again = try await small.run(graph(0.1, inverted: true))
        XCTAssertTrue(again.executed.contains("1"), "the first image was evicted")
    }

    func testEventsReportProgressInOrder() async throws {
        let g = lazyMixGraph(mask: 1.0)
        let log = EventLog()
        _ = try await executor.run(g.0.workflow) { log.append($0) }
        let names = log.events.map { event -> String in
            switch event {
            case .started: return "started"
            case .nodeStarted(let id, _): return "start \(id)"
            case .nodeFinished(let id, _, _): return "end \(id)"
            case .finished: return "finished"
            default: return "other"
            }
        }
        XCTAssertEqual(names.first, "started")
        XCTAssertEqual(names.last, "finished")
        XCTAssertLessThan(names.firstIndex(of: "end \(g.mix)")!, names.firstIndex(of: "start \(g.out)")!)
    }
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [ExecutionEvent] = []
    func append(_ event: ExecutionEvent) {
        lock.lock()
        stored.append(event)
        lock.unlock()
    }
    var events: [ExecutionEvent] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
