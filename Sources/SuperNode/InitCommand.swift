import ArgumentParser

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract:
            "Create a data directory: the root key pair (root.key, mode 0600, and root.key.pub) and an empty authority store.",
        discussion:
            "Refuses a directory that is already initialised: a new root key would invalidate every certificate issued."
    )

    @OptionGroup var data: DataOption

    func run() async throws {
        let dir = data.directory
        let key = try dir.initialise()
        print("initialised \(dir.path)")
        print("root id      \(key.id.hex)")
        print("public key   \(dir.publicKeyPath) (give it to whoever checks certificates and checkpoints)")
        print("store        \(dir.storePath)")
        print("next: super-node certify --data \(dir.path) --gateway-key GATEWAY/gateway.key.pub --name NAME")
    }
}
