//! No parser panics, whatever bytes it is given: random bytes, and real
//! files with bytes flipped, cut or spliced.

use expost_formats::{iperf3_json, iperf3_text, shremote};
use expost_model::Diagnostics;
use proptest::prelude::*;

const REAL_JSON: &str = include_str!(
    "../../../tests/fixtures/iperf3/udp_server_P2_iperf3.19.1_iperf3-lib_udp-server.json"
);
const REAL_TEXT: &str =
    include_str!("../../../tests/fixtures/iperf3/server_text_tcp_iperf3_statexec_iperf_server.log");

fn run_all(bytes: &[u8]) {
    let mut d = Diagnostics::default();
    let _ = iperf3_json::parse_bytes(bytes, &mut d);
    let _ = iperf3_text::parse(bytes, &iperf3_text::TextOptions::default(), &mut d);
    let _ = shremote::parse(bytes, &mut d);
}

fn mutate(base: &str, cut: usize, flips: &[(usize, u8)]) -> Vec<u8> {
    let mut bytes = base.as_bytes().to_vec();
    for &(at, b) in flips {
        let i = at % bytes.len();
        bytes[i] = b;
    }
    bytes.truncate(cut % (bytes.len() + 1));
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        run_all(&bytes);
    }

    #[test]
    fn arbitrary_text_lines(lines in proptest::collection::vec("[ -~]{0,80}", 0..40)) {
        run_all(lines.join("\n").as_bytes());
    }

    #[test]
    fn mutated_real_json(cut in any::<usize>(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8)) {
        run_all(&mutate(REAL_JSON, cut, &flips));
    }

    #[test]
    fn mutated_real_text(cut in any::<usize>(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8)) {
        run_all(&mutate(REAL_TEXT, cut, &flips));
    }
}

mod ombt_formats {
    use expost_formats::{line_protocol, ombt_controller, ombt_params};
    use expost_model::Diagnostics;
    use proptest::prelude::*;

    const REAL_LOG: &str = include_str!(
        "../../../tests/fixtures/ombt/campaign/test_case_1/run_4_rpc-call_2c_2s/ombt-controller.log"
    );
    const REAL_LP: &str = include_str!(
        "../../../tests/fixtures/ombt/campaign/test_case_1/run_4_rpc-call_2c_2s/telemetry.lp"
    );

    fn run_all(bytes: &[u8]) {
        let mut d = Diagnostics::default();
        let _ = ombt_params::parse(bytes, &mut d);
        let _ = ombt_controller::parse(bytes, &mut d);
        let _ = ombt_controller::sniff(bytes);
        let _ = line_protocol::parse(bytes, &mut d, |_, _| {});
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            run_all(&bytes);
        }

        #[test]
        fn real_files_cut_and_flipped(cut in 0usize..4000, flips in proptest::collection::vec((0usize..4000, any::<u8>()), 0..8)) {
            for base in [REAL_LOG, REAL_LP] {
                let mut bytes = base.as_bytes().to_vec();
                for &(at, b) in &flips {
                    let i = at % bytes.len();
                    bytes[i] = b;
                }
                bytes.truncate(cut % (bytes.len() + 1));
                run_all(&bytes);
            }
        }

        #[test]
        fn arbitrary_line_protocol_lines(lines in proptest::collection::vec("[a-z\\\\ ,=\"0-9.iu-]{0,40}", 0..20)) {
            run_all(lines.join("\n").as_bytes());
        }
    }
}
