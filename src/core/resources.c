/* resources.c - the one table of resources a call names in its requestParameters or
 * responseElements (issue #15 case 5), and its application to a record: which calls
 * of which service name which resource, at which path, with the type the CloudTrail
 * event history gives it. docs/store.md "Resources" lists the coverage and the
 * choices made where the service's behaviour is undocumented. */
#include <string.h>

#include "buildtrail/event.h"

#define CFN "cloudformation.amazonaws.com"
#define CT "cloudtrail.amazonaws.com"
#define CB "codebuild.amazonaws.com"
#define CP "codepipeline.amazonaws.com"
#define DDB "dynamodb.amazonaws.com"
#define EC2 "ec2.amazonaws.com"
#define ECR "ecr.amazonaws.com"
#define ECS "ecs.amazonaws.com"
#define IAM "iam.amazonaws.com"
#define KMS "kms.amazonaws.com"
#define LAMBDA "lambda.amazonaws.com"
#define LOGS "logs.amazonaws.com"
#define S3 "s3.amazonaws.com"
#define SM "secretsmanager.amazonaws.com"
#define SNS "sns.amazonaws.com"
#define SQS "sqs.amazonaws.com"
#define SSM "ssm.amazonaws.com"
#define STS "sts.amazonaws.com"

#define RQ "requestParameters."
#define RS "responseElements."

#define T_STACK "AWS::CloudFormation::Stack"
#define T_TRAIL "AWS::CloudTrail::Trail"
#define T_PROJECT "AWS::CodeBuild::Project"
#define T_PIPELINE "AWS::CodePipeline::Pipeline"
#define T_INSTANCE "AWS::EC2::Instance"
#define T_AMI "AWS::EC2::Ami"
#define T_SG "AWS::EC2::SecurityGroup"
#define T_SNAPSHOT "AWS::EC2::Snapshot"
#define T_VOLUME "AWS::EC2::Volume"
#define T_VPC "AWS::EC2::VPC"
#define T_SUBNET "AWS::EC2::Subnet"
#define T_KEYPAIR "AWS::EC2::KeyPair"
#define T_ENI "AWS::EC2::NetworkInterface"
#define T_CLUSTER "AWS::ECS::Cluster"
#define T_SERVICE "AWS::ECS::Service"
#define T_TASKDEF "AWS::ECS::TaskDefinition"
#define T_TASK "AWS::ECS::Task"
#define T_USER "AWS::IAM::User"
#define T_ROLE "AWS::IAM::Role"
#define T_GROUP "AWS::IAM::Group"
#define T_POLICY "AWS::IAM::Policy"
#define T_ACCESSKEY "AWS::IAM::AccessKey"
#define T_KEY "AWS::KMS::Key"
#define T_BUCKET "AWS::S3::Bucket"
#define T_SECRET "AWS::SecretsManager::Secret"
#define T_PARAM "AWS::SSM::Parameter"
#define T_DOC "AWS::SSM::Document"
#define T_ASSUMED "AWS::STS::AssumedRole"
#define T_FEDERATED "AWS::STS::FederatedUser"

/* Sorted by source, then event (bytewise; "*" sorts before every call name): lookups
 * are binary searches, and tests/unit/test_resources.c checks the order and that every
 * entry has a test. Within one (source, event) the order is the output order. */
static const bt_resource_rule rules[] = {
    {CFN, "*", RQ "stackName", T_STACK},
    {CFN, "*", RS "stackId", T_STACK},
    {CFN, "*", RQ "stackSetName", "AWS::CloudFormation::StackSet"},
    {CFN, "*", RQ "changeSetName", "AWS::CloudFormation::ChangeSet"},
    {CFN, "*", RQ "roleARN", T_ROLE},
    {CFN, "CreateChangeSet", RS "id", "AWS::CloudFormation::ChangeSet"},

    {CT, "*", RQ "trailName", T_TRAIL},
    {CT, "*", RQ "trailNameList[]", T_TRAIL},
    {CT, "*", RS "trailARN", T_TRAIL},
    {CT, "CreateTrail", RQ "name", T_TRAIL},
    {CT, "CreateTrail", RQ "s3BucketName", T_BUCKET},
    {CT, "DeleteTrail", RQ "name", T_TRAIL},
    {CT, "GetTrail", RQ "name", T_TRAIL},
    {CT, "GetTrailStatus", RQ "name", T_TRAIL},
    {CT, "StartLogging", RQ "name", T_TRAIL},
    {CT, "StopLogging", RQ "name", T_TRAIL},
    {CT, "UpdateTrail", RQ "name", T_TRAIL},
    {CT, "UpdateTrail", RQ "s3BucketName", T_BUCKET},

    /* builds and project ARNs are derived in event.c (they need region and account) */
    {CB, "*", RQ "projectName", T_PROJECT},
    {CB, "BatchGetProjects", RQ "names[]", T_PROJECT},
    {CB, "CreateProject", RQ "name", T_PROJECT},
    {CB, "CreateProject", RQ "serviceRole", T_ROLE},
    {CB, "DeleteProject", RQ "name", T_PROJECT},
    {CB, "UpdateProject", RQ "name", T_PROJECT},
    {CB, "UpdateProject", RQ "serviceRole", T_ROLE},

    {CP, "*", RQ "pipelineName", T_PIPELINE},
    {CP, "CreatePipeline", RQ "pipeline.name", T_PIPELINE},
    {CP, "DeletePipeline", RQ "name", T_PIPELINE},
    {CP, "GetPipeline", RQ "name", T_PIPELINE},
    {CP, "StartPipelineExecution", RQ "name", T_PIPELINE},
    {CP, "UpdatePipeline", RQ "pipeline.name", T_PIPELINE},

    {DDB, "*", RQ "tableName", "AWS::DynamoDB::Table"},

    {EC2, "*", RQ "instancesSet.items[].instanceId", T_INSTANCE},
    {EC2, "*", RQ "instanceId", T_INSTANCE},
    {EC2, "*", RS "instancesSet.items[].instanceId", T_INSTANCE},
    {EC2, "*", RQ "imageId", T_AMI},
    {EC2, "*", RQ "imagesSet.items[].imageId", T_AMI},
    {EC2, "*", RS "imageId", T_AMI},
    {EC2, "*", RQ "groupId", T_SG},
    {EC2, "*", RQ "groupName", T_SG},
    {EC2, "*", RQ "securityGroupIdSet.items[].groupId", T_SG},
    {EC2, "*", RS "groupId", T_SG},
    {EC2, "*", RQ "snapshotId", T_SNAPSHOT},
    {EC2, "*", RQ "sourceSnapshotId", T_SNAPSHOT},
    {EC2, "*", RQ "snapshotSet.items[].snapshotId", T_SNAPSHOT},
    {EC2, "*", RS "snapshotId", T_SNAPSHOT},
    {EC2, "*", RQ "volumeId", T_VOLUME},
    {EC2, "*", RQ "volumeSet.items[].volumeId", T_VOLUME},
    {EC2, "*", RS "volumeId", T_VOLUME},
    {EC2, "*", RQ "vpcId", T_VPC},
    {EC2, "*", RS "vpc.vpcId", T_VPC},
    {EC2, "*", RQ "subnetId", T_SUBNET},
    {EC2, "*", RS "subnet.subnetId", T_SUBNET},
    {EC2, "*", RQ "keyName", T_KEYPAIR},
    {EC2, "*", RQ "networkInterfaceId", T_ENI},
    {EC2, "*", RS "networkInterface.networkInterfaceId", T_ENI},
    {EC2, "RunInstances", RQ "instancesSet.items[].imageId", T_AMI},
    {EC2, "RunInstances", RQ "instancesSet.items[].keyName", T_KEYPAIR},
    {EC2, "RunInstances", RQ "groupSet.items[].groupId", T_SG},
    {EC2, "RunInstances", RS "instancesSet.items[].groupSet.items[].groupId", T_SG},
    {EC2, "RunInstances", RS "instancesSet.items[].groupSet.items[].groupName", T_SG},
    {EC2, "RunInstances", RS "instancesSet.items[].subnetId", T_SUBNET},
    {EC2, "RunInstances", RS "instancesSet.items[].vpcId", T_VPC},
    {EC2, "RunInstances", RS "instancesSet.items[].networkInterfaceSet.items[].networkInterfaceId",
     T_ENI},

    {ECR, "*", RQ "repositoryName", "AWS::ECR::Repository"},

    {ECS, "*", RQ "cluster", T_CLUSTER},
    {ECS, "*", RQ "service", T_SERVICE},
    {ECS, "*", RQ "family", T_TASKDEF},
    {ECS, "*", RQ "taskDefinition", T_TASKDEF},
    {ECS, "*", RQ "task", T_TASK},
    {ECS, "*", RQ "tasks[]", T_TASK},
    {ECS, "CreateCluster", RQ "clusterName", T_CLUSTER},
    {ECS, "CreateService", RQ "serviceName", T_SERVICE},
    {ECS, "RunTask", RS "tasks[].taskArn", T_TASK},
    {ECS, "StartTask", RS "tasks[].taskArn", T_TASK},

    {IAM, "*", RQ "userName", T_USER},
    {IAM, "*", RQ "newUserName", T_USER},
    {IAM, "*", RQ "accessKeyId", T_ACCESSKEY},
    {IAM, "*", RS "accessKey.accessKeyId", T_ACCESSKEY},
    {IAM, "*", RQ "roleName", T_ROLE},
    {IAM, "*", RQ "groupName", T_GROUP},
    {IAM, "*", RQ "policyArn", T_POLICY},
    {IAM, "*", RQ "instanceProfileName", "AWS::IAM::InstanceProfile"},
    {IAM, "CreatePolicy", RQ "policyName", T_POLICY},
    {IAM, "CreatePolicy", RS "policy.arn", T_POLICY},
    {IAM, "CreateServiceLinkedRole", RS "role.roleName", T_ROLE},

    {KMS, "*", RQ "keyId", T_KEY},
    {KMS, "*", RQ "targetKeyId", T_KEY},
    {KMS, "*", RQ "aliasName", "AWS::KMS::Alias"},
    {KMS, "CreateKey", RS "keyMetadata.keyId", T_KEY},

    /* event names carry API versions (CreateFunction20150331): every call */
    {LAMBDA, "*", RQ "functionName", "AWS::Lambda::Function"},
    {LAMBDA, "*", RQ "role", T_ROLE},

    {LOGS, "*", RQ "logGroupName", "AWS::Logs::LogGroup"},

    {S3, "*", RQ "bucketName", T_BUCKET},
    {S3, "*", RQ "key", "AWS::S3::Object"},

    {SM, "*", RQ "secretId", T_SECRET},
    {SM, "CreateSecret", RQ "name", T_SECRET},
    {SM, "CreateSecret", RS "arn", T_SECRET},

    {SNS, "*", RQ "topicArn", "AWS::SNS::Topic"},
    {SNS, "*", RS "topicArn", "AWS::SNS::Topic"},

    {SQS, "*", RQ "queueUrl", "AWS::SQS::Queue"},
    {SQS, "*", RS "queueUrl", "AWS::SQS::Queue"},

    {SSM, "*", RQ "names[]", T_PARAM},
    {SSM, "*", RQ "documentName", T_DOC},
    {SSM, "*", RQ "instanceIds[]", T_INSTANCE},
    {SSM, "CreateDocument", RQ "name", T_DOC},
    {SSM, "DeleteDocument", RQ "name", T_DOC},
    {SSM, "DeleteParameter", RQ "name", T_PARAM},
    {SSM, "GetParameter", RQ "name", T_PARAM},
    {SSM, "GetParameterHistory", RQ "name", T_PARAM},
    {SSM, "LabelParameterVersion", RQ "name", T_PARAM},
    {SSM, "PutParameter", RQ "name", T_PARAM},
    {SSM, "StartSession", RQ "target", T_INSTANCE},
    {SSM, "UpdateDocument", RQ "name", T_DOC},

    /* AssumeRole*, GetSessionToken: the order the event history shows */
    {STS, "*", RS "credentials.accessKeyId", T_ACCESSKEY},
    {STS, "*", RQ "roleSessionName", T_ASSUMED},
    {STS, "*", RS "assumedRoleUser.assumedRoleId", T_ASSUMED},
    {STS, "*", RS "assumedRoleUser.arn", T_ASSUMED},
    {STS, "*", RQ "roleArn", T_ROLE},
    {STS, "GetFederationToken", RQ "name", T_FEDERATED},
    {STS, "GetFederationToken", RS "federatedUser.arn", T_FEDERATED},
};

#define N_RULES (sizeof rules / sizeof rules[0])

const bt_resource_rule *bt_resource_rules(size_t *n)
{
    if (n)
        *n = N_RULES;
    return rules;
}

/* (source, event) against rules[i]; event NULL compares below every name */
static int cmp_key(const char *source, const char *event, const bt_resource_rule *r)
{
    int c = strcmp(source, r->source);
    if (c || !event)
        return c;
    return strcmp(event, r->event);
}

/* first index whose (source, event) is not below the key */
static size_t lower_bound(const char *source, const char *event)
{
    size_t lo = 0, hi = N_RULES;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_key(source, event, &rules[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Walks path from v: "a.b" descends objects, "a[]" every item of an array; calls fn
 * for each non-empty string at the end. */
static int walk(const bt_json *v, const char *p, const bt_resource_rule *r, bt_resource_fn fn,
                void *ctx)
{
    while (v && *p) {
        size_t n = strcspn(p, ".[");
        if (n && !(v = bt_json_getn(v, p, n)))
            return 0;
        p += n;
        if (p[0] == '[' && p[1] == ']') {
            size_t i;
            int rc;
            p += p[2] == '.' ? 3 : 2;
            if (v->type != BT_JSON_ARRAY)
                return 0;
            for (i = 0; i < v->len; i++)
                if ((rc = walk(v->u.items[i], p, r, fn, ctx)))
                    return rc;
            return 0;
        }
        if (*p == '.')
            p++;
        else if (*p) /* a '[' not followed by ']': no such path */
            return 0;
    }
    if (v && v->type == BT_JSON_STRING && v->len > 0)
        return fn(ctx, r, v->u.str);
    return 0;
}

static int apply_one(const bt_resource_rule *r, const bt_json *req, const bt_json *resp,
                     bt_resource_fn fn, void *ctx)
{
    /* every path starts with RQ or RS, which differ at [2] */
    if (r->path[2] == 'q')
        return req ? walk(req, r->path + sizeof RQ - 1, r, fn, ctx) : 0;
    return resp ? walk(resp, r->path + sizeof RS - 1, r, fn, ctx) : 0;
}

int bt_resource_rules_apply(const bt_json *req, const bt_json *resp, const char *source,
                            const char *event, bt_resource_fn fn, void *ctx)
{
    size_t i;
    int rc;
    if (!source || (!req && !resp))
        return 0;
    if (req && req->type != BT_JSON_OBJECT)
        req = NULL;
    if (resp && resp->type != BT_JSON_OBJECT)
        resp = NULL;
    /* the source's "*" rules open its block */
    for (i = lower_bound(source, NULL); i < N_RULES && rules[i].event[0] == '*' &&
                                        strcmp(rules[i].source, source) == 0;
         i++)
        if ((rc = apply_one(&rules[i], req, resp, fn, ctx)))
            return rc;
    if (!event || !*event)
        return 0;
    for (i = lower_bound(source, event); i < N_RULES && cmp_key(source, event, &rules[i]) == 0;
         i++)
        if ((rc = apply_one(&rules[i], req, resp, fn, ctx)))
            return rc;
    return 0;
}
