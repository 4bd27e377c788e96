import HTTPTypes
import Hummingbird
import NIOCore

/// A server's live dashboard: one HTML document with its style and script inline, served from
/// the binary (no file, no CDN, nothing fetched from elsewhere: it works offline), which
/// reads the server's own JSON routes and follows its `GET /v1/events` stream.
package struct DashboardPage: Sendable {
    /// The whole document.
    package let html: String

    /// - Parameters:
    ///   - title: the page's title and heading.
    ///   - body: the page's sections (HTML).
    ///   - script: the page's own script, run after `DashboardAssets.script`.
    package init(title: String, body: String, script: String) {
        html = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="color-scheme" content="light dark">
            <title>\(title)</title>
            <style>\(DashboardAssets.style)</style>
            </head>
            <body>
            \(body)
            <script>\(DashboardAssets.script)
            \(script)</script>
            </body>
            </html>
            """
    }

    /// The page as a response: never cached (a new binary may serve a new page), and held to
    /// this origin by its Content-Security-Policy.
    package func response() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
