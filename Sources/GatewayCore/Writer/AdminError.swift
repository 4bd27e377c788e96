/// Why an admin call was refused.
package struct AdminError: Error, CustomStringConvertible, Sendable {
    package enum Kind: Sendable { case conflict, notFound, badRequest, storage }
    package var kind: Kind
    package var description: String
}
