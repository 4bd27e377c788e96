/// An answer of a route that uses one body shape for success and refusal alike (trade,
/// escalation, push): the HTTP status beside the decoded body.
package struct Answer<Body: Sendable>: Sendable {
    package var status: Int
    package var body: Body

    package init(status: Int, body: Body) {
        self.status = status
        self.body = body
    }
}
