import GridAPI
import GridAPIServer
import Hummingbird
import LedgerLite

extension SuperNode {
    /// The checkpoint log as C2SP tlog-tiles: `GET /checkpoint` (the signed note, never
    /// cached) and `GET /tile/…` (tiles and entry bundles, immutable once served).
    func addLogRoutes(to router: Router<BasicRequestContext>) {
        router.on(SuperNodeRoutes.logCheckpoint) { _, _ in
            let head = try await self.store.read { db in try CheckpointLog.head(db) }
            return Self.logResponse(
                Array(try self.log.note(for: head).utf8),
                contentType: "text/plain; charset=utf-8",
                cacheControl: "no-store"
            )
        }
        router.on(SuperNodeRoutes.logTile) { _, context in
            let rest = context.parameters.getCatchAll().joined(separator: "/")
            let path: TilePath
            do { path = try TilePath(parsingAfterTilePrefix: rest[...]) } catch {
                throw Rejection(reason: .malformedRequest, message: "\(error)")
            }
            let (bytes, size) = try await self.store.read { db in
                (try CheckpointLog.resource(path, db), try CheckpointLog.head(db).size)
            }
            guard let bytes else {
                throw Rejection(
                    reason: .notFound,
                    message:
                        "\(path) is beyond the checkpoint log, which holds \(size) entries; fetch /checkpoint for the tiles its size has"
                )
            }
            // A tile's bytes never change: a partial tile is a prefix of the full one.
            return Self.logResponse(
                bytes,
                contentType: "application/octet-stream",
                cacheControl: "public, max-age=31536000, immutable"
            )
        }
    }

    private static func logResponse(_ bytes: [UInt8], contentType: String, cacheControl: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = cacheControl
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
