#!/usr/bin/env python3
"""boto3_lookup.py - the boto3 side of it_serve.sh: the widely copied recipe function
(lookup_events with StartTime, EndTime and LookupAttributes; only the endpoint_url is
added), the boto3 paginator, and error probes. Prints event ids, one per line, or
error codes and HTTP statuses, for the shell test to compare.

usage: boto3_lookup.py ENDPOINT recipe START END PROJECT_ARN
       boto3_lookup.py ENDPOINT paginate START END [KEY=VALUE ...] [--page-size N]
       boto3_lookup.py ENDPOINT error JSON_PARAMS
Times are ISO 8601 (UTC). Credentials and region come from the environment."""
import json
import sys
from datetime import datetime

import boto3
import botocore.exceptions

ENDPOINT = sys.argv[1]


def get_codebuild_events(start_time, end_time, project_arn):
    # The recipe: retrieve the CloudTrail events of a CodeBuild project for a window.
    client = boto3.client('cloudtrail', endpoint_url=ENDPOINT)
    response = client.lookup_events(
        LookupAttributes=[
            {
                'AttributeKey': 'ResourceName',
                'AttributeValue': project_arn
            },
        ],
        StartTime=start_time,
        EndTime=end_time
    )
    return response['Events']


def when(s):
    return datetime.fromisoformat(s.replace('Z', '+00:00'))


def main():
    mode = sys.argv[2]
    if mode == 'recipe':
        for event in get_codebuild_events(when(sys.argv[3]), when(sys.argv[4]), sys.argv[5]):
            print(event['EventId'])
    elif mode == 'paginate':
        args = sys.argv[5:]
        page_size = None
        if '--page-size' in args:
            i = args.index('--page-size')
            page_size = int(args[i + 1])
            del args[i:i + 2]
        attrs = [{'AttributeKey': a.split('=', 1)[0], 'AttributeValue': a.split('=', 1)[1]}
                 for a in args]
        client = boto3.client('cloudtrail', endpoint_url=ENDPOINT)
        kwargs = {'StartTime': when(sys.argv[3]), 'EndTime': when(sys.argv[4])}
        if attrs:
            kwargs['LookupAttributes'] = attrs
        if page_size:
            kwargs['PaginationConfig'] = {'PageSize': page_size}
        pages = 0
        for page in client.get_paginator('lookup_events').paginate(**kwargs):
            pages += 1
            for event in page['Events']:
                print(event['EventId'])
        print('pages', pages, file=sys.stderr)
    elif mode == 'error':
        client = boto3.client('cloudtrail', endpoint_url=ENDPOINT)
        params = json.loads(sys.argv[3])
        for k in ('StartTime', 'EndTime'):
            if k in params:
                params[k] = when(params[k])
        try:
            r = client.lookup_events(**params)
            print('OK', r['ResponseMetadata']['HTTPStatusCode'], len(r['Events']))
        except botocore.exceptions.ClientError as e:
            print(e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'])
    else:
        sys.exit('unknown mode ' + mode)


if __name__ == '__main__':
    main()
