#!/usr/bin/env python3
"""sqs_peer.py --url URL --keys FILE COMMAND ARGS... - the SQS and SNS side of
it_watch_sqs.sh and bench/watch.sh, with boto3 against moto_server (signed with the key
that tests/integration/s3/setup.py wrote to FILE: AK=, SK=).

  queue NAME                      create a queue; prints its URL
  topic NAME QUEUE_URL            create a topic and subscribe the queue to it (SNS
                                  envelopes); prints the topic ARN
  notify QUEUE_URL BUCKET KEY...  a trail's log-delivery notification, raw, per 3 keys
  publish TOPIC_ARN BUCKET KEY... the same through the topic (arrives in its envelope)
  s3event QUEUE_URL BUCKET KEY... an S3 event notification (keys form-encoded), per 3 keys
  send QUEUE_URL BODY             one message with BODY as it is
  sendfile QUEUE_URL FILE         one message per line of FILE
  depth QUEUE_URL                 prints "VISIBLE INFLIGHT"
  latency QUEUE_URL RECORD N GAP OUT
                                  N EventBridge "AWS API Call via CloudTrail" messages
                                  wrapping copies of the CloudTrail record in file RECORD
                                  (fresh eventID and eventTime each), GAP seconds apart;
                                  OUT gets "EVENT_ID SENT" per message (SENT: epoch
                                  seconds when SendMessage returned: the message visible)
  soak QUEUE_URL BUCKET SECONDS KEY...
                                  notifications for KEY... again and again for SECONDS;
                                  prints "MESSAGES OBJECTS" sent
  getall BUCKET THREADS KEY...    GETs every object with boto3 (THREADS at a time, bytes
                                  read, not parsed); prints the seconds it took (the peer
                                  figure beside watch's throughput in bench/watch.sh)
  receive QUEUE_URL N             receives (and deletes) up to N messages within 20 s;
                                  prints each body on a line (JSON compacted)
  steal QUEUE_URL SECONDS         a second consumer: receives for SECONDS (visibility 0:
                                  what it gets is not taken away); prints how many it got
"""
import json
import sys
import time
import urllib.parse
import uuid

import boto3

args = sys.argv[1:]
url = keys = None
while args and args[0].startswith("--"):
    if args[0] == "--url":
        url = args[1]
    elif args[0] == "--keys":
        keys = args[1]
    args = args[2:]
kv = dict(line.strip().split("=", 1) for line in open(keys) if "=" in line)
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id=kv["AK"],
          aws_secret_access_key=kv["SK"])
sqs = boto3.client("sqs", **kw)
sns = boto3.client("sns", **kw)
cmd, rest = args[0], args[1:]


def chunks(v, n=3):
    return [v[i:i + n] for i in range(0, len(v), n)]


if cmd == "queue":
    print(sqs.create_queue(QueueName=rest[0])["QueueUrl"])
elif cmd == "topic":
    arn = sns.create_topic(Name=rest[0])["TopicArn"]
    qarn = sqs.get_queue_attributes(QueueUrl=rest[1], AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn["Attributes"]["QueueArn"])
    print(arn)
elif cmd == "notify":
    for part in chunks(rest[2:]):
        sqs.send_message(QueueUrl=rest[0],
                         MessageBody=json.dumps({"s3Bucket": rest[1], "s3ObjectKey": part}))
elif cmd == "publish":
    for part in chunks(rest[2:]):
        sns.publish(TopicArn=rest[0],
                    Message=json.dumps({"s3Bucket": rest[1], "s3ObjectKey": part}))
elif cmd == "s3event":
    for part in chunks(rest[2:]):
        recs = [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                 "eventTime": "2026-10-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
                 "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": rest[1]},
                        "object": {"key": urllib.parse.quote_plus(k, safe="/")}}}
                for k in part]
        sqs.send_message(QueueUrl=rest[0], MessageBody=json.dumps({"Records": recs}))
elif cmd == "latency":
    rec = json.load(open(rest[1]))
    with open(rest[4], "w") as out:
        for _ in range(int(rest[2])):
            r = dict(rec)
            r["eventID"] = str(uuid.uuid4())
            r["eventTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            env = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "AWS API Call via CloudTrail",
                   "source": "aws." + r.get("eventSource", "x").split(".")[0],
                   "account": r.get("recipientAccountId", "123456789012"), "time": r["eventTime"],
                   "region": r.get("awsRegion", "us-east-1"), "resources": [], "detail": r}
            sqs.send_message(QueueUrl=rest[0], MessageBody=json.dumps(env))
            out.write("%s %.6f\n" % (r["eventID"], time.time()))
            out.flush()
            time.sleep(float(rest[3]))
elif cmd == "soak":
    end = time.time() + float(rest[2])
    sent = objects = 0
    while time.time() < end:
        for part in chunks(rest[3:]):
            sqs.send_message(QueueUrl=rest[0],
                             MessageBody=json.dumps({"s3Bucket": rest[1], "s3ObjectKey": part}))
            sent += 1
            objects += len(part)
            if time.time() >= end:
                break
        time.sleep(0.5)
    print(sent, objects)
elif cmd == "send":
    sqs.send_message(QueueUrl=rest[0], MessageBody=rest[1])
elif cmd == "sendfile":
    for line in open(rest[1]):
        if line.strip():
            sqs.send_message(QueueUrl=rest[0], MessageBody=line.strip())
elif cmd == "depth":
    a = sqs.get_queue_attributes(QueueUrl=rest[0], AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    print(a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"])
elif cmd == "receive":
    want, got, end = int(rest[1]), 0, time.time() + 20
    while got < want and time.time() < end:
        r = sqs.receive_message(QueueUrl=rest[0], MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in r.get("Messages", []):
            try:  # one line each (SNS envelopes come pretty-printed)
                print(json.dumps(json.loads(m["Body"])))
            except ValueError:
                print(m["Body"])
            sqs.delete_message(QueueUrl=rest[0], ReceiptHandle=m["ReceiptHandle"])
            got += 1
elif cmd == "steal":  # QUEUE SECONDS: a second consumer; prints how many it received
    got, end = 0, time.time() + float(rest[1])
    while time.time() < end:
        # VisibilityTimeout 0: a message it gets is visible again at once (not taken away)
        r = sqs.receive_message(QueueUrl=rest[0], MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                VisibilityTimeout=0)
        got += len(r.get("Messages", []))
    print(got)
elif cmd == "getall":
    from concurrent.futures import ThreadPoolExecutor
    s3 = boto3.client("s3", **kw)
    t0 = time.time()
    with ThreadPoolExecutor(int(rest[1])) as ex:
        list(ex.map(lambda k: s3.get_object(Bucket=rest[0], Key=k)["Body"].read(), rest[2:]))
    print("%.2f" % (time.time() - t0))
else:
    sys.exit("sqs_peer.py: unknown command " + cmd)
