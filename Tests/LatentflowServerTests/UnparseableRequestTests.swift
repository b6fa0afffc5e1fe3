import Foundation
import Latentflow
import XCTest

@testable import LatentflowServer

/// Bytes that are not HTTP get `400 Bad Request` before the connection closes, on a connection's
/// first request (answered by `ParseErrorAnsweringChannel`) and on a later one (Hummingbird's own
/// `HTTPChannelHandler`); a WebSocket still upgrades on the same server.
final class UnparseableRequestTests: XCTestCase {
    func testUnparseableRequestsAreAnsweredWith400() async throws {
        try await ServerHarness().run { _, port in
            let cases: [(String, [UInt8])] = [
                ("not HTTP at all", [0x00, 0x01, 0xFF] + Array("garbage\r\n\r\n".utf8)),
                ("a header line without a colon", Array("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n".utf8)),
                ("a request line with a space in the path", Array("GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
                (
                    "a header over 80 KiB",
                    Array("GET / HTTP/1.1\r\nX-Big: \(String(repeating: "z", count: 90_000))\r\n\r\n".utf8)
                ),
            ]
            for (what, bytes) in cases {
                let reply = try RawHTTP.exchange(port: port, bytes)
                XCTAssertTrue(reply.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(what): \(reply.prefix(200))")
            }
            // A well-formed request, then garbage on the same connection: 200, then 400.
            let kept = try RawHTTP.exchange(
                port: port, Array("GET /system_stats HTTP/1.1\r\nHost: x\r\n\r\n\u{1}\u{2} nonsense\r\n\r\n".utf8))
            XCTAssertTrue(kept.hasPrefix("HTTP/1.1 200 OK\r\n"), String(kept.prefix(200)))
            XCTAssertTrue(kept.contains("HTTP/1.1 400 Bad Request\r\n"), String(kept.suffix(300)))
            // A WebSocket upgrade still goes through the pipeline the handler left.
            let upgrade = try RawHTTP.exchange(
                port: port,
                Array(
                    ("GET /ws?clientId=raw HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8),
                closeWrite: false)
            XCTAssertTrue(upgrade.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"), String(upgrade.prefix(200)))
        }
    }
}

/// One TCP exchange with the server, below any HTTP client (which would refuse to send such bytes).
enum RawHTTP {
    /// Sends `bytes` to 127.0.0.1:`port` and reads until the server closes (or 64 KiB, or 2 s of
    /// silence when `closeWrite` is false and the connection stays open).
    static func exchange(port: Int, _ bytes: [UInt8], closeWrite: Bool = true) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ChildFailure(description: "socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw ChildFailure(description: "connect: \(errno)") }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { break }  // the server may close before reading everything
            offset += sent
        }
        if closeWrite { shutdown(fd, Int32(SHUT_WR)) }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while reply.count < 1 << 16 {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            reply += buffer[0..<count]
        }
        return String(decoding: reply, as: UTF8.self)
    }
}
