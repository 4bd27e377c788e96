/// The response to `POST /v1/readings`.
package struct IngestResponse: Codable, Sendable, Hashable {
    package var results: [IngestResult]

    package init(results: [IngestResult]) {
        self.results = results
    }
}
