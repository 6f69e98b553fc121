"""The emulator answers a request whose response has no body (HEAD) with its real status:
hypercorn's WSGI adapter sends the status with the first body chunk, so an empty body must
still yield one (EmptyBodyChunk). Without it every HEAD was a 500 and Terraform's provider could
never find an S3 bucket it had created (found by make tf-local)."""

from __future__ import annotations

from hypercorn.app_wrappers import WSGIWrapper

from pulse_devstack.aws_emulator import EmptyBodyChunk


def _head_app(environ, start_response):
    start_response("404 Not Found", [("Content-Length", "0")])
    return []


def _run(app) -> list[dict]:
    sent: list[dict] = []
    WSGIWrapper(app, max_body_size=1024).run_app({"REQUEST_METHOD": "HEAD"}, sent.append)
    return sent


def test_a_bodyless_response_reaches_the_client_with_its_status():
    sent = _run(EmptyBodyChunk(_head_app))
    assert sent[0] == {"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]}
    assert sent[1]["type"] == "http.response.body" and sent[1]["body"] == b""


def test_without_the_middleware_hypercorn_never_sends_the_status():
    # What the emulator did before: no response start at all (the client then saw a 500).
    assert _run(_head_app) == []


def test_bodies_pass_through_unchanged_and_are_closed():
    closed = []

    class Body(list):
        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [])
        return Body([b"a", b"b"])

    sent = _run(EmptyBodyChunk(app))
    assert [m["body"] for m in sent if m["type"] == "http.response.body"] == [b"a", b"b"]
    assert closed == [True]


def test_application_autoscaling_targets_keep_their_tags():
    # Terraform's provider lists a scalable target's tags after creating it (moto has no tag API).
    import boto3
    from moto import mock_aws

    from pulse_devstack.aws_emulator import install_moto_application_autoscaling_tags

    install_moto_application_autoscaling_tags()
    with mock_aws():
        ecs = boto3.client("ecs", region_name="us-east-1")
        ecs.create_cluster(clusterName="c")
        ecs.create_service(cluster="c", serviceName="s", desiredCount=0)
        scaling = boto3.client("application-autoscaling", region_name="us-east-1")
        arn = scaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId="service/c/s",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=1,
            MaxCapacity=2,
            Tags={"Project": "pulse"},
        )["ScalableTargetARN"]
        scaling.tag_resource(ResourceARN=arn, Tags={"Environment": "dev"})
        scaling.untag_resource(ResourceARN=arn, TagKeys=["Project"])
        assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Environment": "dev"}
