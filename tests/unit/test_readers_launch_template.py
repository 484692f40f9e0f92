"""User data and metadata options: the host facts behind IMDS reachability."""

from __future__ import annotations

import base64

from policyeval.readers.launch_template import (
    decode_user_data,
    host_settings_from_user_data,
    metadata_from,
)


def test_agent_settings_count_only_when_written_to_ecs_config() -> None:
    script = "#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\necho 'ECS_AWSVPC_BLOCK_IMDS=true' >> /etc/ecs/ecs.config\n"
    settings = host_settings_from_user_data(script, None)
    assert settings.agent_setting("ECS_CLUSTER") == "web"
    assert settings.agent_setting("ECS_AWSVPC_BLOCK_IMDS") == "true"
    assert settings.iptables_blocks_imds is None
    elsewhere = host_settings_from_user_data("export ECS_CLUSTER=web\n", None)
    assert elsewhere.agent == ()


def test_iptables_drop_to_imds_is_detected_in_every_documented_form() -> None:
    """ECS Developer Guide, "Task IAM role": DOCKER-USER / FORWARD DROP rules."""
    for rule in (
        "iptables --insert DOCKER-USER 1 --in-interface docker+ --destination 169.254.169.254/32 --jump DROP",
        "iptables --insert FORWARD 1 --in-interface docker+ --destination 169.254.169.254/32 --jump DROP",
        "-A DOCKER-USER -d 169.254.169.254/32 -j DROP",
    ):
        assert host_settings_from_user_data(rule, None).iptables_blocks_imds is True
    commented = "# iptables -A DOCKER-USER -d 169.254.169.254/32 -j DROP"
    assert host_settings_from_user_data(commented, None).iptables_blocks_imds is None


def test_base64_user_data_is_decoded_and_plain_text_kept() -> None:
    script = "#!/bin/bash\necho ECS_CLUSTER=reports >> /etc/ecs/ecs.config\n"
    assert decode_user_data(base64.b64encode(script.encode()).decode()) == script
    assert decode_user_data("abcd efgh") == "abcd efgh"


def test_metadata_options_leave_unsaid_fields_none() -> None:
    cfn = metadata_from({"HttpTokens": "Required", "HttpPutResponseHopLimit": "2"})
    assert cfn is not None
    assert (cfn.http_tokens, cfn.hop_limit, cfn.http_endpoint) == ("required", 2, None)
    tf = metadata_from([{"http_endpoint": "disabled"}], terraform=True)
    assert tf is not None and tf.http_endpoint == "disabled" and tf.hop_limit is None
    assert metadata_from(None) is None
