/// HAProxy's typed JSON statistics (`;json` on the stats page, `show stat json`): an array with one
/// array per row, each holding one object per non-empty field:
/// `{"objType":"Server","proxyId":3,"id":1,"field":{"pos":17,"name":"status"},"processNum":1,
///   "tags":{"origin":"Status","nature":"Gauge","scope":"Process"},"value":{"type":"str","value":"UP"}}`.
/// Shapes and tags follow what haproxy 2.6 returns; empty CSV columns are left out, as HAProxy does.
public enum StatsJSON {
    public static func render(_ snapshot: StatsSnapshot) -> String {
        var rows: [String] = []
        for row in snapshot.rows {
            var fields: [String] = []
            for (position, column) in StatsCSV.columns.enumerated() {
                guard column.name != "-", let value = column.value(row) else { continue }
                let tags = Self.tags(column.name)
                let rendered = tags.type == "str" ? quote(value) : value
                fields.append(
                    "{\"objType\":\"\(row.kind.objectType)\",\"proxyId\":\(row.proxyID),\"id\":\(row.serverID),"
                        + "\"field\":{\"pos\":\(position),\"name\":\(quote(column.name))},\"processNum\":1,"
                        + "\"tags\":{\"origin\":\"\(tags.origin)\",\"nature\":\"\(tags.nature)\","
                        + "\"scope\":\"\(tags.scope)\"},\"value\":{\"type\":\"\(tags.type)\",\"value\":\(rendered)}}"
                )
            }
            rows.append("[" + fields.joined(separator: ",") + "]")
        }
        return "[" + rows.joined(separator: ",\n") + "]\n"
    }

    struct Tags {
        var origin: String
        var nature: String
        var scope: String
        var type: String
    }

    static func tags(_ name: String) -> Tags {
        switch name {
        case "pxname", "svname": return Tags(origin: "Key", nature: "Name", scope: "Service", type: "str")
        case "pid": return Tags(origin: "Key", nature: "Gauge", scope: "Process", type: "u32")
        case "iid", "sid": return Tags(origin: "Key", nature: "Gauge", scope: "Service", type: "u32")
        case "status": return Tags(origin: "Status", nature: "Gauge", scope: "Process", type: "str")
        case "act", "bck": return Tags(origin: "Status", nature: "Gauge", scope: "Process", type: "u32")
        case "slim": return Tags(origin: "Config", nature: "Limit", scope: "Process", type: "u32")
        case "type", "check_rise", "check_fall", "check_health":
            return Tags(origin: "Config", nature: "Gauge", scope: "Service", type: "u32")
        case "mode", "algo", "addr": return Tags(origin: "Config", nature: "Gauge", scope: "Service", type: "str")
        case "check_status", "last_chk", "check_desc":
            return Tags(origin: "Metric", nature: "Output", scope: "Process", type: "str")
        case "check_code": return Tags(origin: "Metric", nature: "Output", scope: "Process", type: "u32")
        case "check_duration": return Tags(origin: "Metric", nature: "Duration", scope: "Process", type: "u64")
        case "qcur", "scur": return Tags(origin: "Metric", nature: "Gauge", scope: "Process", type: "u32")
        case "qmax", "smax": return Tags(origin: "Metric", nature: "Max", scope: "Process", type: "u32")
        case "weight", "uweight": return Tags(origin: "Metric", nature: "Avg", scope: "Process", type: "u32")
        case "lastchg": return Tags(origin: "Metric", nature: "Age", scope: "Process", type: "u32")
        case "lastsess": return Tags(origin: "Metric", nature: "Age", scope: "Process", type: "s32")
        case "downtime": return Tags(origin: "Metric", nature: "Counter", scope: "Process", type: "u32")
        case "rate", "req_rate", "conn_rate":
            return Tags(origin: "Metric", nature: "Rate", scope: "Process", type: "u32")
        case "rate_max", "req_rate_max", "conn_rate_max":
            return Tags(origin: "Metric", nature: "Max", scope: "Process", type: "u32")
        case "rate_lim": return Tags(origin: "Config", nature: "Limit", scope: "Process", type: "u32")
        default: return Tags(origin: "Metric", nature: "Counter", scope: "Process", type: "u64")
        }
    }

    /// A JSON string literal (RFC 8259 §7).
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
