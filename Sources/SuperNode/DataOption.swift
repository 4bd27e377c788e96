import ArgumentParser
import SuperNodeCore

struct DataOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The super node's data directory.", valueName: "dir"))
    var data: String

    var directory: SuperDirectory { SuperDirectory(data) }
}
