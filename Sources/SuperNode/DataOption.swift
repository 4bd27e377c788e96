import ArgumentParser
import SuperNodeCore

struct DataOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The super node's data directory.", valueName: "dir"))
    var data: String

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The authority store: DIR/authority.sqlite by default, or a PostgreSQL database shared by replicas, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (the password may come from PGPASSWORD instead; docs/SCALING.md).",
            valueName: "url"
        ),
        transform: { try PostgresLocation($0) }
    )
    var store: PostgresLocation?

    var directory: SuperDirectory { SuperDirectory(data, postgres: store) }
}
