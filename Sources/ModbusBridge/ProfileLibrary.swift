import Foundation

/// The meter profiles available to a program: every `*.yaml` in a profile directory.
public struct ProfileLibrary: Sendable {
    /// The directory the profiles were loaded from.
    public let directory: String
    /// Profiles by name.
    public let profiles: [String: MeterProfile]

    /// Loads every `*.yaml` in `directory`. One broken file fails the whole load, naming it:
    /// a silently missing meter model is worse than a clear error.
    public init(directory: String) throws(ProfileError) {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                .sorted()
        } catch {
            throw ProfileError(
                file: directory,
                field: "",
                problem: "cannot list meter profiles: \(error.localizedDescription)"
            )
        }
        var profiles: [String: MeterProfile] = [:]
        var sources: [String: String] = [:]
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            let profile = try ProfileLoader.load(file: path)
            if let other = sources[profile.name] {
                throw ProfileError(file: path, field: "name", problem: "'\(profile.name)' is also the name of \(other)")
            }
            profiles[profile.name] = profile
            sources[profile.name] = path
        }
        self.directory = directory
        self.profiles = profiles
    }

    /// Loads from the first directory that exists among: `explicit`, `$GRIDLEDGER_METERS`,
    /// `./hardware/meters`, `../share/gridledger/meters` beside the executable, and this
    /// source tree's `hardware/meters`.
    public static func locate(explicit: String? = nil) throws(ProfileError) -> ProfileLibrary {
        if let explicit {
            return try ProfileLibrary(directory: explicit)
        }
        for candidate in searchPath() where isDirectory(candidate) {
            return try ProfileLibrary(directory: candidate)
        }
        throw ProfileError(
            file: "hardware/meters",
            field: "",
            problem: "no meter profile directory found; pass --profiles DIR or set GRIDLEDGER_METERS"
        )
    }

    /// The directories `locate` tries, in order.
    public static func searchPath() -> [String] {
        var candidates: [String] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment["GRIDLEDGER_METERS"], !fromEnvironment.isEmpty {
            candidates.append(fromEnvironment)
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/hardware/meters")
        // The binary itself, wherever it was started from (through PATH, argv[0] is only its name).
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        candidates.append(
            executable.deletingLastPathComponent()
                .appendingPathComponent("../share/gridledger/meters").standardized.path
        )
        // Sources/ModbusBridge/ProfileLibrary.swift → the repository's hardware/meters.
        let sourceTree = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(sourceTree.appendingPathComponent("hardware/meters").path)
        return candidates
    }

    /// The profile called `name`, or an error listing the available ones.
    public func profile(named name: String) throws(ProfileError) -> MeterProfile {
        if let profile = profiles[name.lowercased()] { return profile }
        let available = profiles.keys.sorted().joined(separator: ", ")
        throw ProfileError(
            file: directory,
            field: "",
            problem: "no meter profile '\(name)'; available: \(available)"
        )
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
