import Hummingbird

extension HTTPFields {
    /// The headers of a JSON request body, which both servers require (anything else is a 415).
    public static var json: HTTPFields { [.contentType: "application/json"] }

    /// These headers with `Content-Type: application/json` added.
    public var json: HTTPFields {
        var fields = self
        fields[.contentType] = "application/json"
        return fields
    }
}
