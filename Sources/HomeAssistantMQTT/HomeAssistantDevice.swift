/// A device as Home Assistant shows it (one meter), with its sensors: all read from one
/// JSON state message, each through its own key.
public struct HomeAssistantDevice: Sendable, Hashable {
    /// Stable and topic-safe (letters, digits, `_`, `-`): part of every topic and unique_id.
    public var id: String
    public var name: String
    public var manufacturer: String
    public var model: String
    public var sensors: [HomeAssistantSensor]

    public init(id: String, name: String, manufacturer: String, model: String, sensors: [HomeAssistantSensor]) {
        self.id = id
        self.name = name
        self.manufacturer = manufacturer
        self.model = model
        self.sensors = sensors
    }
}

/// One sensor of a device: its key in the state JSON and how Home Assistant should treat it.
public struct HomeAssistantSensor: Sendable, Hashable {
    /// The key in the state JSON, and the end of the sensor's object id and unique_id.
    public var key: String
    public var name: String
    /// energy, power, voltage, current, frequency, … (Home Assistant's sensor device classes).
    public var deviceClass: String?
    /// total_increasing for counters, measurement for momentary values.
    public var stateClass: String?
    public var unit: String?

    public init(key: String, name: String, deviceClass: String?, stateClass: String?, unit: String?) {
        self.key = key
        self.name = name
        self.deviceClass = deviceClass
        self.stateClass = stateClass
        self.unit = unit
    }
}

/// A sensor's discovery config, as published (retained) to
/// `homeassistant/sensor/<node>/<device>_<key>/config`.
struct DiscoveryConfig: Encodable {
    struct Device: Encodable {
        var identifiers: [String]
        var name: String
        var manufacturer: String
        var model: String
    }

    var name: String
    var uniqueID: String
    var objectID: String
    var stateTopic: String
    var valueTemplate: String
    var deviceClass: String?
    var stateClass: String?
    var unit: String?
    var availabilityTopic: String
    var payloadAvailable = "online"
    var payloadNotAvailable = "offline"
    var device: Device

    enum CodingKeys: String, CodingKey {
        case name
        case uniqueID = "unique_id"
        case objectID = "object_id"
        case stateTopic = "state_topic"
        case valueTemplate = "value_template"
        case deviceClass = "device_class"
        case stateClass = "state_class"
        case unit = "unit_of_measurement"
        case availabilityTopic = "availability_topic"
        case payloadAvailable = "payload_available"
        case payloadNotAvailable = "payload_not_available"
        case device
    }
}
