/// The authority store holds something it cannot have written: one line naming it.
package struct StoreDamage: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
