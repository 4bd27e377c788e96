import ArgumentParser
import GatewayCore

struct DataOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The gateway's data directory.", valueName: "dir"))
    var data: String

    var directory: DataDirectory { DataDirectory(data) }
}
