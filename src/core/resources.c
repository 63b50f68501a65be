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

/* The table: per source (sources[] sorted bytewise by name, for a binary search),
 * the rules for every call of the source ("*") and those for named calls (sorted by
 * event, for a binary search). tests/unit/test_resources.c checks both orders and that
 * every rule has a test. Within one (source, event) the order is the output order. */
#define ANY(src, path, type)                                                                       \
    {                                                                                              \
        src, "*", path, type                                                                       \
    }
#define CALL(src, ev, path, type)                                                                  \
    {                                                                                              \
        src, ev, path, type                                                                        \
    }
static const bt_resource_rule cfn_any[] = {
    ANY(CFN, RQ "stackName", T_STACK),
    ANY(CFN, RS "stackId", T_STACK),
    ANY(CFN, RQ "stackSetName", "AWS::CloudFormation::StackSet"),
    ANY(CFN, RQ "changeSetName", "AWS::CloudFormation::ChangeSet"),
    ANY(CFN, RQ "roleARN", T_ROLE),
};
static const bt_resource_rule cfn_calls[] = {
    CALL(CFN, "CreateChangeSet", RS "id", "AWS::CloudFormation::ChangeSet"),
};

static const bt_resource_rule ct_any[] = {
    ANY(CT, RQ "trailName", T_TRAIL),
    ANY(CT, RQ "trailNameList[]", T_TRAIL),
    ANY(CT, RS "trailARN", T_TRAIL),
};
static const bt_resource_rule ct_calls[] = {
    CALL(CT, "CreateTrail", RQ "name", T_TRAIL),
    CALL(CT, "CreateTrail", RQ "s3BucketName", T_BUCKET),
    CALL(CT, "DeleteTrail", RQ "name", T_TRAIL),
    CALL(CT, "GetTrail", RQ "name", T_TRAIL),
    CALL(CT, "GetTrailStatus", RQ "name", T_TRAIL),
    CALL(CT, "StartLogging", RQ "name", T_TRAIL),
    CALL(CT, "StopLogging", RQ "name", T_TRAIL),
    CALL(CT, "UpdateTrail", RQ "name", T_TRAIL),
    CALL(CT, "UpdateTrail", RQ "s3BucketName", T_BUCKET),
};

/* builds and project ARNs are derived in event.c (they need region and account) */
static const bt_resource_rule cb_any[] = {
    ANY(CB, RQ "projectName", T_PROJECT),
};
static const bt_resource_rule cb_calls[] = {
    CALL(CB, "BatchGetProjects", RQ "names[]", T_PROJECT),
    CALL(CB, "CreateProject", RQ "name", T_PROJECT),
    CALL(CB, "CreateProject", RQ "serviceRole", T_ROLE),
    CALL(CB, "DeleteProject", RQ "name", T_PROJECT),
    CALL(CB, "UpdateProject", RQ "name", T_PROJECT),
    CALL(CB, "UpdateProject", RQ "serviceRole", T_ROLE),
};

static const bt_resource_rule cp_any[] = {
    ANY(CP, RQ "pipelineName", T_PIPELINE),
};
static const bt_resource_rule cp_calls[] = {
    CALL(CP, "CreatePipeline", RQ "pipeline.name", T_PIPELINE),
    CALL(CP, "DeletePipeline", RQ "name", T_PIPELINE),
    CALL(CP, "GetPipeline", RQ "name", T_PIPELINE),
    CALL(CP, "StartPipelineExecution", RQ "name", T_PIPELINE),
    CALL(CP, "UpdatePipeline", RQ "pipeline.name", T_PIPELINE),
};

static const bt_resource_rule ddb_any[] = {
    ANY(DDB, RQ "tableName", "AWS::DynamoDB::Table"),
};

static const bt_resource_rule ec2_any[] = {
    ANY(EC2, RQ "instancesSet.items[].instanceId", T_INSTANCE),
    ANY(EC2, RQ "instanceId", T_INSTANCE),
    ANY(EC2, RS "instancesSet.items[].instanceId", T_INSTANCE),
    ANY(EC2, RQ "imageId", T_AMI),
    ANY(EC2, RQ "imagesSet.items[].imageId", T_AMI),
    ANY(EC2, RS "imageId", T_AMI),
    ANY(EC2, RQ "groupId", T_SG),
    ANY(EC2, RQ "groupName", T_SG),
    ANY(EC2, RQ "securityGroupIdSet.items[].groupId", T_SG),
    ANY(EC2, RS "groupId", T_SG),
    ANY(EC2, RQ "snapshotId", T_SNAPSHOT),
    ANY(EC2, RQ "sourceSnapshotId", T_SNAPSHOT),
    ANY(EC2, RQ "snapshotSet.items[].snapshotId", T_SNAPSHOT),
    ANY(EC2, RS "snapshotId", T_SNAPSHOT),
    ANY(EC2, RQ "volumeId", T_VOLUME),
    ANY(EC2, RQ "volumeSet.items[].volumeId", T_VOLUME),
    ANY(EC2, RS "volumeId", T_VOLUME),
    ANY(EC2, RQ "vpcId", T_VPC),
    ANY(EC2, RS "vpc.vpcId", T_VPC),
    ANY(EC2, RQ "subnetId", T_SUBNET),
    ANY(EC2, RS "subnet.subnetId", T_SUBNET),
    ANY(EC2, RQ "keyName", T_KEYPAIR),
    ANY(EC2, RQ "networkInterfaceId", T_ENI),
    ANY(EC2, RS "networkInterface.networkInterfaceId", T_ENI),
};
static const bt_resource_rule ec2_calls[] = {
    CALL(EC2, "RunInstances", RQ "instancesSet.items[].imageId", T_AMI),
    CALL(EC2, "RunInstances", RQ "instancesSet.items[].keyName", T_KEYPAIR),
    CALL(EC2, "RunInstances", RQ "groupSet.items[].groupId", T_SG),
    CALL(EC2, "RunInstances", RS "instancesSet.items[].groupSet.items[].groupId", T_SG),
    CALL(EC2, "RunInstances", RS "instancesSet.items[].groupSet.items[].groupName", T_SG),
    CALL(EC2, "RunInstances", RS "instancesSet.items[].subnetId", T_SUBNET),
    CALL(EC2, "RunInstances", RS "instancesSet.items[].vpcId", T_VPC),
    CALL(EC2, "RunInstances",
         RS "instancesSet.items[].networkInterfaceSet.items[].networkInterfaceId", T_ENI),
};

static const bt_resource_rule ecr_any[] = {
    ANY(ECR, RQ "repositoryName", "AWS::ECR::Repository"),
};

static const bt_resource_rule ecs_any[] = {
    ANY(ECS, RQ "cluster", T_CLUSTER), ANY(ECS, RQ "service", T_SERVICE),
    ANY(ECS, RQ "family", T_TASKDEF),  ANY(ECS, RQ "taskDefinition", T_TASKDEF),
    ANY(ECS, RQ "task", T_TASK),       ANY(ECS, RQ "tasks[]", T_TASK),
};
static const bt_resource_rule ecs_calls[] = {
    CALL(ECS, "CreateCluster", RQ "clusterName", T_CLUSTER),
    CALL(ECS, "CreateService", RQ "serviceName", T_SERVICE),
    CALL(ECS, "RunTask", RS "tasks[].taskArn", T_TASK),
    CALL(ECS, "StartTask", RS "tasks[].taskArn", T_TASK),
};

static const bt_resource_rule iam_any[] = {
    ANY(IAM, RQ "userName", T_USER),
    ANY(IAM, RQ "newUserName", T_USER),
    ANY(IAM, RQ "accessKeyId", T_ACCESSKEY),
    ANY(IAM, RS "accessKey.accessKeyId", T_ACCESSKEY),
    ANY(IAM, RQ "roleName", T_ROLE),
    ANY(IAM, RQ "groupName", T_GROUP),
    ANY(IAM, RQ "policyArn", T_POLICY),
    ANY(IAM, RQ "instanceProfileName", "AWS::IAM::InstanceProfile"),
};
static const bt_resource_rule iam_calls[] = {
    CALL(IAM, "CreatePolicy", RQ "policyName", T_POLICY),
    CALL(IAM, "CreatePolicy", RS "policy.arn", T_POLICY),
    CALL(IAM, "CreateServiceLinkedRole", RS "role.roleName", T_ROLE),
};

static const bt_resource_rule kms_any[] = {
    ANY(KMS, RQ "keyId", T_KEY),
    ANY(KMS, RQ "targetKeyId", T_KEY),
    ANY(KMS, RQ "aliasName", "AWS::KMS::Alias"),
};
static const bt_resource_rule kms_calls[] = {
    CALL(KMS, "CreateKey", RS "keyMetadata.keyId", T_KEY),
};

/* event names carry API versions (CreateFunction20150331): every call */
static const bt_resource_rule lambda_any[] = {
    ANY(LAMBDA, RQ "functionName", "AWS::Lambda::Function"),
    ANY(LAMBDA, RQ "role", T_ROLE),
};

static const bt_resource_rule logs_any[] = {
    ANY(LOGS, RQ "logGroupName", "AWS::Logs::LogGroup"),
};

static const bt_resource_rule s3_any[] = {
    ANY(S3, RQ "bucketName", T_BUCKET),
    ANY(S3, RQ "key", "AWS::S3::Object"),
};

static const bt_resource_rule sm_any[] = {
    ANY(SM, RQ "secretId", T_SECRET),
};
static const bt_resource_rule sm_calls[] = {
    CALL(SM, "CreateSecret", RQ "name", T_SECRET),
    CALL(SM, "CreateSecret", RS "arn", T_SECRET),
};

static const bt_resource_rule sns_any[] = {
    ANY(SNS, RQ "topicArn", "AWS::SNS::Topic"),
    ANY(SNS, RS "topicArn", "AWS::SNS::Topic"),
};

static const bt_resource_rule sqs_any[] = {
    ANY(SQS, RQ "queueUrl", "AWS::SQS::Queue"),
    ANY(SQS, RS "queueUrl", "AWS::SQS::Queue"),
};

static const bt_resource_rule ssm_any[] = {
    ANY(SSM, RQ "names[]", T_PARAM),
    ANY(SSM, RQ "documentName", T_DOC),
    ANY(SSM, RQ "instanceIds[]", T_INSTANCE),
};
static const bt_resource_rule ssm_calls[] = {
    CALL(SSM, "CreateDocument", RQ "name", T_DOC),
    CALL(SSM, "DeleteDocument", RQ "name", T_DOC),
    CALL(SSM, "DeleteParameter", RQ "name", T_PARAM),
    CALL(SSM, "GetParameter", RQ "name", T_PARAM),
    CALL(SSM, "GetParameterHistory", RQ "name", T_PARAM),
    CALL(SSM, "LabelParameterVersion", RQ "name", T_PARAM),
    CALL(SSM, "PutParameter", RQ "name", T_PARAM),
    CALL(SSM, "StartSession", RQ "target", T_INSTANCE),
    CALL(SSM, "UpdateDocument", RQ "name", T_DOC),
};

/* AssumeRole*, GetSessionToken: the order the event history shows */
static const bt_resource_rule sts_any[] = {
    ANY(STS, RS "credentials.accessKeyId", T_ACCESSKEY),
    ANY(STS, RQ "roleSessionName", T_ASSUMED),
    ANY(STS, RS "assumedRoleUser.assumedRoleId", T_ASSUMED),
    ANY(STS, RS "assumedRoleUser.arn", T_ASSUMED),
    ANY(STS, RQ "roleArn", T_ROLE),
};
static const bt_resource_rule sts_calls[] = {
    CALL(STS, "GetFederationToken", RQ "name", T_FEDERATED),
    CALL(STS, "GetFederationToken", RS "federatedUser.arn", T_FEDERATED),
};

#define N(arr) (sizeof arr / sizeof arr[0])
#define SRC(src, any, calls)                                                                       \
    {                                                                                              \
        src, any, N(any), calls, N(calls)                                                          \
    }
#define SRC_ANY(src, any)                                                                          \
    {                                                                                              \
        src, any, N(any), NULL, 0                                                                  \
    }

typedef struct source_rules {
    const char *name;
    const bt_resource_rule *any;
    size_t n_any;
    const bt_resource_rule *calls;
    size_t n_calls;
} source_rules;

static const source_rules sources[] = {
    SRC(CFN, cfn_any, cfn_calls), SRC(CT, ct_any, ct_calls),    SRC(CB, cb_any, cb_calls),
    SRC(CP, cp_any, cp_calls),    SRC_ANY(DDB, ddb_any),        SRC(EC2, ec2_any, ec2_calls),
    SRC_ANY(ECR, ecr_any),        SRC(ECS, ecs_any, ecs_calls), SRC(IAM, iam_any, iam_calls),
    SRC(KMS, kms_any, kms_calls), SRC_ANY(LAMBDA, lambda_any),  SRC_ANY(LOGS, logs_any),
    SRC_ANY(S3, s3_any),          SRC(SM, sm_any, sm_calls),    SRC_ANY(SNS, sns_any),
    SRC_ANY(SQS, sqs_any),        SRC(SSM, ssm_any, ssm_calls), SRC(STS, sts_any, sts_calls),
};

size_t bt_resource_rule_count(void)
{
    size_t i, n = 0;
    for (i = 0; i < N(sources); i++)
        n += sources[i].n_any + sources[i].n_calls;
    return n;
}

const bt_resource_rule *bt_resource_rule_at(size_t i)
{
    size_t k;
    for (k = 0; k < N(sources); k++) {
        if (i < sources[k].n_any)
            return &sources[k].any[i];
        i -= sources[k].n_any;
        if (i < sources[k].n_calls)
            return &sources[k].calls[i];
        i -= sources[k].n_calls;
    }
    return NULL;
}

static const source_rules *find_source(const char *name)
{
    size_t lo = 0, hi = N(sources);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *s = sources[mid].name;
        /* the first bytes decide most comparisons without a call */
        int c = name[0] != s[0] ? (unsigned char)name[0] - (unsigned char)s[0] : strcmp(name, s);
        if (c == 0)
            return &sources[mid];
        if (c > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* first of src's call rules whose event is not below ev */
static size_t first_call(const source_rules *src, const char *ev)
{
    size_t lo = 0, hi = src->n_calls;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ev, src->calls[mid].event) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The member of obj named by the path segment at *p (up to '.', '[' or the end), *p
 * moved past it; the first of that name, as bt_json_get. Cheaper than measuring the
 * segment and calling bt_json_getn: most members fail on their first byte. */
static const bt_json *member(const bt_json *obj, const char **pp)
{
    const char *p = *pp;
    size_t i, k;
    if (obj->type != BT_JSON_OBJECT)
        return NULL;
    for (i = 0; i < obj->len; i++) {
        const bt_json_member *m = &obj->u.members[i];
        if (m->key[0] != p[0])
            continue;
        for (k = 1; k < m->key_len && p[k] && m->key[k] == p[k]; k++)
            ;
        if (k == m->key_len && (p[k] == '\0' || p[k] == '.' || p[k] == '[')) {
            *pp = p + k;
            return m->value;
        }
    }
    return NULL;
}

/* Walks path p from v: "a.b" descends objects, "a[]" every item of an array; calls fn
 * for each non-empty string at the end. */
static int walk(const bt_json *v, const char *p, const bt_resource_rule *r, bt_resource_fn fn,
                void *ctx)
{
    for (;;) {
        if (p[0] == '[') {
            size_t i;
            int rc;
            if (p[1] != ']' || v->type != BT_JSON_ARRAY)
                return 0;
            p += p[2] == '.' ? 3 : 2;
            for (i = 0; i < v->len; i++)
                if ((rc = walk(v->u.items[i], p, r, fn, ctx)))
                    return rc;
            return 0;
        }
        if (!*p)
            break;
        if (!(v = member(v, &p)))
            return 0;
        if (*p == '.')
            p++;
    }
    if (v->type == BT_JSON_STRING && v->len > 0)
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
    const source_rules *src;
    size_t i;
    int rc;
    if (req && req->type != BT_JSON_OBJECT)
        req = NULL;
    if (resp && resp->type != BT_JSON_OBJECT)
        resp = NULL;
    if (!source || !*source || (!req && !resp) || !(src = find_source(source)))
        return 0;
    for (i = 0; i < src->n_any; i++)
        if ((rc = apply_one(&src->any[i], req, resp, fn, ctx)))
            return rc;
    if (!event || !src->n_calls)
        return 0;
    for (i = first_call(src, event); i < src->n_calls && strcmp(src->calls[i].event, event) == 0;
         i++)
        if ((rc = apply_one(&src->calls[i], req, resp, fn, ctx)))
            return rc;
    return 0;
}
