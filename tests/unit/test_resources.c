/* test_resources.c - issue #15 case 5: the resources a call names in its request or
 * response (src/core/resources.c), through the public API: one record written here
 * per table rule with the type/name list bt_event_from_record gives it, a check that
 * every rule of the table fired in some case, the table's order (its lookups are binary
 * searches), the record's own resources kept first and deduplicated, and the cap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/buf.h"
#include "buildtrail/event.h"
#include "tharness.h"

typedef struct rcase {
    const char *source, *event, *req, *resp;
    const char *want; /* "type=name|type=name..." in the event's order */
} rcase;

#define ACCT "111122223333"
#define ROLE_ARN(r) "arn:aws:iam::" ACCT ":role/" r
#define CB_PROJ(p) "AWS::CodeBuild::Project=arn:aws:codebuild:us-east-1:" ACCT ":project/" p

static const rcase cases[] = {
    /* CloudFormation */
    {"cloudformation.amazonaws.com", "CreateStack",
     "{\"stackName\":\"web\",\"roleARN\":\"" ROLE_ARN("cfn") "\"}",
     "{\"stackId\":\"arn:aws:cloudformation:us-east-1:" ACCT ":stack/web/1\"}",
     "AWS::CloudFormation::Stack=web|AWS::CloudFormation::Stack=arn:aws:cloudformation:us-east-"
     "1:" ACCT ":stack/web/1|AWS::IAM::Role=" ROLE_ARN("cfn")},
    {"cloudformation.amazonaws.com", "CreateChangeSet",
     "{\"stackName\":\"web\",\"changeSetName\":\"cs1\"}",
     "{\"id\":\"arn:cs1\",\"stackId\":\"arn:web\"}",
     "AWS::CloudFormation::Stack=web|AWS::CloudFormation::Stack=arn:web|"
     "AWS::CloudFormation::ChangeSet=cs1|AWS::CloudFormation::ChangeSet=arn:cs1"},
    {"cloudformation.amazonaws.com", "CreateStackSet", "{\"stackSetName\":\"base\"}", NULL,
     "AWS::CloudFormation::StackSet=base"},
    /* CloudTrail */
    {"cloudtrail.amazonaws.com", "CreateTrail", "{\"name\":\"main\",\"s3BucketName\":\"logs-b\"}",
     "{\"name\":\"main\",\"trailARN\":\"arn:aws:cloudtrail:us-east-1:" ACCT ":trail/main\"}",
     "AWS::CloudTrail::Trail=arn:aws:cloudtrail:us-east-1:" ACCT
     ":trail/main|AWS::CloudTrail::Trail=main|AWS::S3::Bucket=logs-b"},
    {"cloudtrail.amazonaws.com", "UpdateTrail", "{\"name\":\"main\",\"s3BucketName\":\"b2\"}",
     "{\"trailARN\":\"arn:t\"}",
     "AWS::CloudTrail::Trail=arn:t|AWS::CloudTrail::Trail=main|AWS::S3::Bucket=b2"},
    {"cloudtrail.amazonaws.com", "DeleteTrail", "{\"name\":\"main\"}", NULL,
     "AWS::CloudTrail::Trail=main"},
    {"cloudtrail.amazonaws.com", "GetTrail", "{\"name\":\"main\"}", NULL,
     "AWS::CloudTrail::Trail=main"},
    {"cloudtrail.amazonaws.com", "GetTrailStatus", "{\"name\":\"main\"}", NULL,
     "AWS::CloudTrail::Trail=main"},
    {"cloudtrail.amazonaws.com", "StartLogging", "{\"name\":\"main\"}", NULL,
     "AWS::CloudTrail::Trail=main"},
    {"cloudtrail.amazonaws.com", "StopLogging", "{\"name\":\"arn:t\"}", NULL,
     "AWS::CloudTrail::Trail=arn:t"},
    {"cloudtrail.amazonaws.com", "PutEventSelectors", "{\"trailName\":\"main\"}", NULL,
     "AWS::CloudTrail::Trail=main"},
    {"cloudtrail.amazonaws.com", "DescribeTrails", "{\"trailNameList\":[\"a\",\"b\",7]}", NULL,
     "AWS::CloudTrail::Trail=a|AWS::CloudTrail::Trail=b"},
    /* CloudTrail: "name" of another call names no trail */
    {"cloudtrail.amazonaws.com", "CreateEventDataStore", "{\"name\":\"eds\"}", NULL, ""},
    /* CodeBuild (the project ARN and build ARN come from event.c's CodeBuild derivation) */
    {"codebuild.amazonaws.com", "StartBuild", "{\"projectName\":\"web\"}", NULL,
     "AWS::CodeBuild::Project=web|" CB_PROJ("web")},
    {"codebuild.amazonaws.com", "BatchGetProjects", "{\"names\":[\"a\",\"b\"]}", NULL,
     "AWS::CodeBuild::Project=a|AWS::CodeBuild::Project=b"},
    {"codebuild.amazonaws.com", "CreateProject",
     "{\"name\":\"web\",\"serviceRole\":\"" ROLE_ARN("cb") "\"}", NULL,
     "AWS::CodeBuild::Project=web|AWS::IAM::Role=" ROLE_ARN("cb") "|" CB_PROJ("web")},
    {"codebuild.amazonaws.com", "UpdateProject",
     "{\"name\":\"web\",\"serviceRole\":\"" ROLE_ARN("cb") "\"}", NULL,
     "AWS::CodeBuild::Project=web|AWS::IAM::Role=" ROLE_ARN("cb") "|" CB_PROJ("web")},
    {"codebuild.amazonaws.com", "DeleteProject", "{\"name\":\"web\"}", NULL,
     "AWS::CodeBuild::Project=web|" CB_PROJ("web")},
    /* CodePipeline */
    {"codepipeline.amazonaws.com", "PutJobSuccessResult", "{\"pipelineName\":\"p\"}", NULL,
     "AWS::CodePipeline::Pipeline=p"},
    {"codepipeline.amazonaws.com", "CreatePipeline", "{\"pipeline\":{\"name\":\"p\"}}", NULL,
     "AWS::CodePipeline::Pipeline=p"},
    {"codepipeline.amazonaws.com", "UpdatePipeline", "{\"pipeline\":{\"name\":\"p\"}}", NULL,
     "AWS::CodePipeline::Pipeline=p"},
    {"codepipeline.amazonaws.com", "DeletePipeline", "{\"name\":\"p\"}", NULL,
     "AWS::CodePipeline::Pipeline=p"},
    {"codepipeline.amazonaws.com", "GetPipeline", "{\"name\":\"p\"}", NULL,
     "AWS::CodePipeline::Pipeline=p"},
    {"codepipeline.amazonaws.com", "StartPipelineExecution", "{\"name\":\"p\"}", NULL,
     "AWS::CodePipeline::Pipeline=p"},
    /* DynamoDB */
    {"dynamodb.amazonaws.com", "CreateTable", "{\"tableName\":\"t\"}", NULL,
     "AWS::DynamoDB::Table=t"},
    /* EC2 */
    {"ec2.amazonaws.com", "RunInstances",
     "{\"instancesSet\":{\"items\":[{\"imageId\":\"ami-1\",\"keyName\":\"k1\"}]},"
     "\"groupSet\":{\"items\":[{\"groupId\":\"sg-0\"}]}}",
     "{\"instancesSet\":{\"items\":[{\"instanceId\":\"i-1\",\"imageId\":\"ami-1\",\"subnetId\":"
     "\"subnet-1\",\"vpcId\":\"vpc-1\",\"groupSet\":{\"items\":[{\"groupId\":\"sg-1\","
     "\"groupName\":\"web\"}]},\"networkInterfaceSet\":{\"items\":[{\"networkInterfaceId\":"
     "\"eni-1\"}]}},{\"instanceId\":\"i-2\"}]}}",
     "AWS::EC2::Instance=i-1|AWS::EC2::Instance=i-2|AWS::EC2::Ami=ami-1|AWS::EC2::KeyPair=k1|"
     "AWS::EC2::SecurityGroup=sg-0|AWS::EC2::SecurityGroup=sg-1|AWS::EC2::SecurityGroup=web|"
     "AWS::EC2::Subnet=subnet-1|AWS::EC2::VPC=vpc-1|AWS::EC2::NetworkInterface=eni-1"},
    {"ec2.amazonaws.com", "StopInstances",
     "{\"instancesSet\":{\"items\":[{\"instanceId\":\"i-1\"},{\"instanceId\":\"i-2\"}]}}",
     "{\"instancesSet\":{\"items\":[{\"instanceId\":\"i-1\"},{\"instanceId\":\"i-2\"}]}}",
     "AWS::EC2::Instance=i-1|AWS::EC2::Instance=i-2"},
    {"ec2.amazonaws.com", "CreateImage", "{\"instanceId\":\"i-3\",\"name\":\"img\"}",
     "{\"imageId\":\"ami-2\"}", "AWS::EC2::Instance=i-3|AWS::EC2::Ami=ami-2"},
    {"ec2.amazonaws.com", "DeregisterImage", "{\"imageId\":\"ami-2\"}", NULL,
     "AWS::EC2::Ami=ami-2"},
    {"ec2.amazonaws.com", "DescribeImages", "{\"imagesSet\":{\"items\":[{\"imageId\":\"ami-3\"}]}}",
     NULL, "AWS::EC2::Ami=ami-3"},
    {"ec2.amazonaws.com", "AuthorizeSecurityGroupIngress",
     "{\"groupId\":\"sg-1\",\"ipPermissions\":{\"items\":[{\"ipProtocol\":\"tcp\"}]}}", NULL,
     "AWS::EC2::SecurityGroup=sg-1"},
    {"ec2.amazonaws.com", "CreateSecurityGroup",
     "{\"groupName\":\"web\",\"groupDescription\":\"d\",\"vpcId\":\"vpc-1\"}",
     "{\"_return\":true,\"groupId\":\"sg-2\"}",
     "AWS::EC2::SecurityGroup=web|AWS::EC2::SecurityGroup=sg-2|AWS::EC2::VPC=vpc-1"},
    {"ec2.amazonaws.com", "DescribeSecurityGroups",
     "{\"securityGroupIdSet\":{\"items\":[{\"groupId\":\"sg-3\"}]}}", NULL,
     "AWS::EC2::SecurityGroup=sg-3"},
    {"ec2.amazonaws.com", "CreateSnapshot", "{\"volumeId\":\"vol-1\"}",
     "{\"snapshotId\":\"snap-1\",\"volumeId\":\"vol-1\"}",
     "AWS::EC2::Snapshot=snap-1|AWS::EC2::Volume=vol-1"},
    {"ec2.amazonaws.com", "CopySnapshot", "{\"sourceSnapshotId\":\"snap-1\"}",
     "{\"snapshotId\":\"snap-2\"}", "AWS::EC2::Snapshot=snap-1|AWS::EC2::Snapshot=snap-2"},
    {"ec2.amazonaws.com", "DeleteSnapshot", "{\"snapshotId\":\"snap-2\"}", NULL,
     "AWS::EC2::Snapshot=snap-2"},
    {"ec2.amazonaws.com", "DescribeSnapshots",
     "{\"snapshotSet\":{\"items\":[{\"snapshotId\":\"snap-3\"}]}}", NULL,
     "AWS::EC2::Snapshot=snap-3"},
    {"ec2.amazonaws.com", "CreateVolume", "{\"size\":8}", "{\"volumeId\":\"vol-2\"}",
     "AWS::EC2::Volume=vol-2"},
    {"ec2.amazonaws.com", "DescribeVolumes",
     "{\"volumeSet\":{\"items\":[{\"volumeId\":\"vol-3\"}]}}", NULL, "AWS::EC2::Volume=vol-3"},
    {"ec2.amazonaws.com", "CreateVpc", "{\"cidrBlock\":\"10.0.0.0/16\"}",
     "{\"vpc\":{\"vpcId\":\"vpc-2\"}}", "AWS::EC2::VPC=vpc-2"},
    {"ec2.amazonaws.com", "CreateSubnet", "{\"vpcId\":\"vpc-2\"}",
     "{\"subnet\":{\"subnetId\":\"subnet-2\"}}", "AWS::EC2::VPC=vpc-2|AWS::EC2::Subnet=subnet-2"},
    {"ec2.amazonaws.com", "DeleteSubnet", "{\"subnetId\":\"subnet-2\"}", NULL,
     "AWS::EC2::Subnet=subnet-2"},
    {"ec2.amazonaws.com", "CreateKeyPair", "{\"keyName\":\"k2\"}", NULL, "AWS::EC2::KeyPair=k2"},
    {"ec2.amazonaws.com", "CreateNetworkInterface", "{\"subnetId\":\"subnet-2\"}",
     "{\"networkInterface\":{\"networkInterfaceId\":\"eni-2\"}}",
     "AWS::EC2::Subnet=subnet-2|AWS::EC2::NetworkInterface=eni-2"},
    {"ec2.amazonaws.com", "DeleteNetworkInterface", "{\"networkInterfaceId\":\"eni-2\"}", NULL,
     "AWS::EC2::NetworkInterface=eni-2"},
    /* ECR */
    {"ecr.amazonaws.com", "CreateRepository", "{\"repositoryName\":\"app\"}", NULL,
     "AWS::ECR::Repository=app"},
    /* ECS */
    {"ecs.amazonaws.com", "CreateCluster", "{\"clusterName\":\"c1\"}", NULL,
     "AWS::ECS::Cluster=c1"},
    {"ecs.amazonaws.com", "CreateService",
     "{\"cluster\":\"c1\",\"serviceName\":\"s1\",\"taskDefinition\":\"td:1\"}", NULL,
     "AWS::ECS::Cluster=c1|AWS::ECS::TaskDefinition=td:1|AWS::ECS::Service=s1"},
    {"ecs.amazonaws.com", "UpdateService", "{\"cluster\":\"c1\",\"service\":\"s1\"}", NULL,
     "AWS::ECS::Cluster=c1|AWS::ECS::Service=s1"},
    {"ecs.amazonaws.com", "RegisterTaskDefinition", "{\"family\":\"td\"}", NULL,
     "AWS::ECS::TaskDefinition=td"},
    {"ecs.amazonaws.com", "RunTask", "{\"cluster\":\"c1\",\"taskDefinition\":\"td:1\"}",
     "{\"tasks\":[{\"taskArn\":\"arn:task/c1/abc\"}]}",
     "AWS::ECS::Cluster=c1|AWS::ECS::TaskDefinition=td:1|AWS::ECS::Task=arn:task/c1/abc"},
    {"ecs.amazonaws.com", "StartTask", "{\"taskDefinition\":\"td:1\"}",
     "{\"tasks\":[{\"taskArn\":\"arn:task/c1/def\"}]}",
     "AWS::ECS::TaskDefinition=td:1|AWS::ECS::Task=arn:task/c1/def"},
    {"ecs.amazonaws.com", "StopTask", "{\"cluster\":\"c1\",\"task\":\"abc\"}", NULL,
     "AWS::ECS::Cluster=c1|AWS::ECS::Task=abc"},
    {"ecs.amazonaws.com", "DescribeTasks", "{\"tasks\":[\"abc\",\"def\"]}", NULL,
     "AWS::ECS::Task=abc|AWS::ECS::Task=def"},
    /* IAM */
    {"iam.amazonaws.com", "CreateUser", "{\"userName\":\"x\"}",
     "{\"user\":{\"userName\":\"x\",\"arn\":\"arn:aws:iam::" ACCT ":user/x\"}}",
     "AWS::IAM::User=x"},
    {"iam.amazonaws.com", "UpdateUser", "{\"userName\":\"x\",\"newUserName\":\"y\"}", NULL,
     "AWS::IAM::User=x|AWS::IAM::User=y"},
    {"iam.amazonaws.com", "CreateAccessKey", "{\"userName\":\"x\"}",
     "{\"accessKey\":{\"accessKeyId\":\"AKIAEXAMPLEKEY00001\",\"status\":\"Active\","
     "\"userName\":\"x\"}}",
     "AWS::IAM::User=x|AWS::IAM::AccessKey=AKIAEXAMPLEKEY00001"},
    {"iam.amazonaws.com", "DeleteAccessKey",
     "{\"userName\":\"x\",\"accessKeyId\":\"AKIAEXAMPLEKEY00001\"}", NULL,
     "AWS::IAM::User=x|AWS::IAM::AccessKey=AKIAEXAMPLEKEY00001"},
    {"iam.amazonaws.com", "AttachRolePolicy",
     "{\"roleName\":\"r\",\"policyArn\":\"arn:aws:iam::aws:policy/AdministratorAccess\"}", NULL,
     "AWS::IAM::Role=r|AWS::IAM::Policy=arn:aws:iam::aws:policy/AdministratorAccess"},
    {"iam.amazonaws.com", "AddUserToGroup", "{\"groupName\":\"g\",\"userName\":\"x\"}", NULL,
     "AWS::IAM::User=x|AWS::IAM::Group=g"},
    {"iam.amazonaws.com", "AddRoleToInstanceProfile",
     "{\"instanceProfileName\":\"ip\",\"roleName\":\"r\"}", NULL,
     "AWS::IAM::Role=r|AWS::IAM::InstanceProfile=ip"},
    {"iam.amazonaws.com", "CreatePolicy", "{\"policyName\":\"p\",\"policyDocument\":\"{}\"}",
     "{\"policy\":{\"policyName\":\"p\",\"arn\":\"arn:aws:iam::" ACCT ":policy/p\"}}",
     "AWS::IAM::Policy=p|AWS::IAM::Policy=arn:aws:iam::" ACCT ":policy/p"},
    {"iam.amazonaws.com", "CreateServiceLinkedRole", "{\"aWSServiceName\":\"ecs.amazonaws.com\"}",
     "{\"role\":{\"roleName\":\"AWSServiceRoleForECS\"}}", "AWS::IAM::Role=AWSServiceRoleForECS"},
    /* IAM: an inline policy's name is no managed policy */
    {"iam.amazonaws.com", "PutUserPolicy", "{\"userName\":\"x\",\"policyName\":\"inline\"}", NULL,
     "AWS::IAM::User=x"},
    /* KMS */
    {"kms.amazonaws.com", "CreateKey", "{\"description\":\"d\"}",
     "{\"keyMetadata\":{\"keyId\":\"k-1\",\"arn\":\"arn:k-1\"}}", "AWS::KMS::Key=k-1"},
    {"kms.amazonaws.com", "CreateAlias", "{\"aliasName\":\"alias/app\",\"targetKeyId\":\"k-1\"}",
     NULL, "AWS::KMS::Key=k-1|AWS::KMS::Alias=alias/app"},
    {"kms.amazonaws.com", "ScheduleKeyDeletion", "{\"keyId\":\"k-1\"}", NULL, "AWS::KMS::Key=k-1"},
    /* Lambda */
    {"lambda.amazonaws.com", "CreateFunction20150331",
     "{\"functionName\":\"fn\",\"role\":\"" ROLE_ARN("lambda") "\"}", NULL,
     "AWS::Lambda::Function=fn|AWS::IAM::Role=" ROLE_ARN("lambda")},
    /* CloudWatch Logs */
    {"logs.amazonaws.com", "CreateLogGroup", "{\"logGroupName\":\"/aws/codebuild/web\"}", NULL,
     "AWS::Logs::LogGroup=/aws/codebuild/web"},
    /* S3 */
    {"s3.amazonaws.com", "CreateBucket", "{\"bucketName\":\"b1\"}", NULL, "AWS::S3::Bucket=b1"},
    {"s3.amazonaws.com", "PutObject", "{\"bucketName\":\"b1\",\"key\":\"a/b.txt\"}", NULL,
     "AWS::S3::Bucket=b1|AWS::S3::Object=a/b.txt"},
    /* Secrets Manager */
    {"secretsmanager.amazonaws.com", "CreateSecret", "{\"name\":\"db\"}",
     "{\"arn\":\"arn:secret:db-AbCdEf\",\"name\":\"db\"}",
     "AWS::SecretsManager::Secret=db|AWS::SecretsManager::Secret=arn:secret:db-AbCdEf"},
    {"secretsmanager.amazonaws.com", "GetSecretValue", "{\"secretId\":\"db\"}", NULL,
     "AWS::SecretsManager::Secret=db"},
    /* SNS, SQS */
    {"sns.amazonaws.com", "Publish", "{\"topicArn\":\"arn:sns:t\"}", NULL,
     "AWS::SNS::Topic=arn:sns:t"},
    {"sns.amazonaws.com", "CreateTopic", "{\"name\":\"t\"}", "{\"topicArn\":\"arn:sns:t\"}",
     "AWS::SNS::Topic=arn:sns:t"},
    {"sqs.amazonaws.com", "DeleteQueue", "{\"queueUrl\":\"https://q/1/q\"}", NULL,
     "AWS::SQS::Queue=https://q/1/q"},
    {"sqs.amazonaws.com", "CreateQueue", "{\"queueName\":\"q\"}",
     "{\"queueUrl\":\"https://q/1/q\"}", "AWS::SQS::Queue=https://q/1/q"},
    /* SSM */
    {"ssm.amazonaws.com", "GetParameters", "{\"names\":[\"/a\",\"/b\"],\"withDecryption\":true}",
     NULL, "AWS::SSM::Parameter=/a|AWS::SSM::Parameter=/b"},
    {"ssm.amazonaws.com", "SendCommand",
     "{\"documentName\":\"AWS-RunShellScript\",\"instanceIds\":[\"i-1\"]}", NULL,
     "AWS::SSM::Document=AWS-RunShellScript|AWS::EC2::Instance=i-1"},
    {"ssm.amazonaws.com", "CreateDocument", "{\"name\":\"d1\"}", NULL, "AWS::SSM::Document=d1"},
    {"ssm.amazonaws.com", "UpdateDocument", "{\"name\":\"d1\"}", NULL, "AWS::SSM::Document=d1"},
    {"ssm.amazonaws.com", "DeleteDocument", "{\"name\":\"d1\"}", NULL, "AWS::SSM::Document=d1"},
    {"ssm.amazonaws.com", "PutParameter", "{\"name\":\"/p\",\"type\":\"SecureString\"}", NULL,
     "AWS::SSM::Parameter=/p"},
    {"ssm.amazonaws.com", "GetParameter", "{\"name\":\"/p\"}", NULL, "AWS::SSM::Parameter=/p"},
    {"ssm.amazonaws.com", "GetParameterHistory", "{\"name\":\"/p\"}", NULL,
     "AWS::SSM::Parameter=/p"},
    {"ssm.amazonaws.com", "LabelParameterVersion", "{\"name\":\"/p\"}", NULL,
     "AWS::SSM::Parameter=/p"},
    {"ssm.amazonaws.com", "DeleteParameter", "{\"name\":\"/p\"}", NULL, "AWS::SSM::Parameter=/p"},
    {"ssm.amazonaws.com", "StartSession", "{\"target\":\"i-1\"}", NULL, "AWS::EC2::Instance=i-1"},
    /* STS */
    {"sts.amazonaws.com", "AssumeRole",
     "{\"roleArn\":\"" ROLE_ARN("deploy") "\",\"roleSessionName\":\"s1\"}",
     "{\"credentials\":{\"accessKeyId\":\"ASIAEXAMPLEKEY00001\"},\"assumedRoleUser\":{"
     "\"assumedRoleId\":\"AROAEXAMPLE:s1\",\"arn\":\"arn:aws:sts::" ACCT
     ":assumed-role/deploy/s1\"}}",
     "AWS::IAM::AccessKey=ASIAEXAMPLEKEY00001|AWS::STS::AssumedRole=s1|"
     "AWS::STS::AssumedRole=AROAEXAMPLE:s1|AWS::STS::AssumedRole=arn:aws:sts::" ACCT
     ":assumed-role/deploy/s1|AWS::IAM::Role=" ROLE_ARN("deploy")},
    {"sts.amazonaws.com", "GetFederationToken", "{\"name\":\"bob\"}",
     "{\"credentials\":{\"accessKeyId\":\"ASIAEXAMPLEKEY00002\"},\"federatedUser\":{\"arn\":"
     "\"arn:fed/bob\"}}",
     "AWS::IAM::AccessKey=ASIAEXAMPLEKEY00002|AWS::STS::FederatedUser=bob|"
     "AWS::STS::FederatedUser=arn:fed/bob"},
    /* no table entry: nothing derived */
    {"sso.amazonaws.com", "CreateUser", "{\"userName\":\"x\"}", NULL, ""},
};

#define N_CASES (sizeof cases / sizeof cases[0])

/* the record of a case, with extra top-level members (or "") */
static char *record_of(const rcase *c, const char *extra)
{
    bt_buf b;
    bt_buf_init(&b, 0);
    bt_buf_printf(&b,
                  "{\"eventVersion\":\"1.08\",\"eventID\":\"e-1\",\"eventTime\":\"2026-10-01T00:00:"
                  "00Z\",\"eventSource\":\"%s\",\"eventName\":\"%s\",\"awsRegion\":\"us-east-1\","
                  "\"recipientAccountId\":\"" ACCT "\",\"requestParameters\":%s,"
                  "\"responseElements\":%s%s}",
                  c->source, c->event, c->req ? c->req : "null", c->resp ? c->resp : "null", extra);
    return bt_buf_detach(&b); /* the caller frees */
}

static void list_of(const bt_event *ev, bt_buf *out)
{
    size_t i;
    for (i = 0; i < ev->n_resources; i++)
        bt_buf_printf(out, "%s%s=%s", i ? "|" : "",
                      ev->resources[i].type ? ev->resources[i].type : "", ev->resources[i].name);
}

static const char *text(const bt_buf *b)
{
    return b->data ? b->data : "";
}

/* the event's resources for a record, "type=name|..." */
static void derive(const char *rec, bt_buf *out)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_json *j = NULL;
    bt_event ev;
    bt_error e;
    memset(&e, 0, sizeof e);
    bt_buf_clear(out);
    if (bt_json_parse(a, rec, strlen(rec), NULL, &j, &e) == 0 &&
        bt_event_from_record(a, j, &ev, &e) == 0)
        list_of(&ev, out);
    else
        bt_buf_printf(out, "(error: %s)", e.msg);
    bt_arena_free(a);
}

static void test_each_case(void)
{
    bt_buf got;
    size_t i;
    bt_buf_init(&got, 0);
    for (i = 0; i < N_CASES; i++) {
        char *rec = record_of(&cases[i], "");
        derive(rec, &got);
        bt_t_current = cases[i].event;
        CHECK_STR(text(&got), cases[i].want);
        free(rec);
    }
    bt_buf_dispose(&got);
}

static int mark(void *ctx, const bt_resource_rule *rule, const char *name)
{
    size_t i, n = bt_resource_rule_count();
    (void)name;
    for (i = 0; i < n; i++)
        if (bt_resource_rule_at(i) == rule)
            ((int *)ctx)[i] = 1;
    return 0;
}

/* every rule of the table fires in some case above */
static void test_every_rule_has_a_case(void)
{
    size_t n = bt_resource_rule_count(), i;
    int *fired = calloc(n, sizeof *fired);
    bt_arena *a = bt_arena_new(0, 0);
    CHECK(n > 100);
    for (i = 0; i < N_CASES; i++) {
        char *rec = record_of(&cases[i], "");
        bt_json *j = NULL;
        bt_error e;
        CHECK(bt_json_parse(a, rec, strlen(rec), NULL, &j, &e) == 0);
        if (j)
            CHECK(bt_resource_rules_apply(bt_json_get(j, "requestParameters"),
                                          bt_json_get(j, "responseElements"), cases[i].source,
                                          cases[i].event, mark, fired) == 0);
        free(rec);
    }
    for (i = 0; i < n; i++) {
        const bt_resource_rule *r = bt_resource_rule_at(i);
        char what[300];
        snprintf(what, sizeof what, "rule %s %s %s has no case", r->source, r->event, r->path);
        bt_t_report(fired[i], __FILE__, __LINE__, what, NULL);
    }
    CHECK(bt_resource_rule_at(n) == NULL);
    free(fired);
    bt_arena_free(a);
}

/* sources ascending and each a block; "*" rules open it; call rules by event; paths
 * from requestParameters or responseElements; types AWS::Service::Type */
static void test_table_order(void)
{
    size_t n = bt_resource_rule_count(), i;
    for (i = 0; i < n; i++) {
        const bt_resource_rule *r = bt_resource_rule_at(i),
                               *p = i ? bt_resource_rule_at(i - 1) : NULL;
        char what[300];
        int ok = 1;
        if (p) {
            int c = strcmp(p->source, r->source);
            if (c > 0)
                ok = 0;
            else if (c == 0 && strcmp(p->event, "*") != 0 &&
                     (strcmp(r->event, "*") == 0 || strcmp(p->event, r->event) > 0))
                ok = 0;
        }
        if (strncmp(r->path, "requestParameters.", 18) != 0 &&
            strncmp(r->path, "responseElements.", 17) != 0)
            ok = 0;
        if (strncmp(r->type, "AWS::", 5) != 0 || !strstr(r->type + 5, "::"))
            ok = 0;
        snprintf(what, sizeof what, "rule %zu (%s %s %s) in order and well formed", i, r->source,
                 r->event, r->path);
        bt_t_report(ok, __FILE__, __LINE__, what, NULL);
    }
    /* a source whose name sorts between two in the table finds nothing */
    CHECK(bt_resource_rules_apply(NULL, NULL, "ec2.amazonaws.com", "RunInstances", mark, NULL) ==
          0);
}

/* the record's own resources come first and the derived ones join them once */
static void test_own_resources_first(void)
{
    static const rcase c = {"sts.amazonaws.com", "AssumeRole",
                            "{\"roleArn\":\"" ROLE_ARN("deploy") "\",\"roleSessionName\":\"s1\"}",
                            NULL, NULL};
    char *rec =
        record_of(&c, ",\"resources\":[{\"accountId\":\"" ACCT
                      "\",\"type\":\"AWS::IAM::Role\",\"ARN\":\"" ROLE_ARN("deploy") "\"}]");
    bt_buf got;
    bt_buf_init(&got, 0);
    derive(rec, &got);
    CHECK_STR(text(&got), "AWS::IAM::Role=" ROLE_ARN("deploy") "|AWS::STS::AssumedRole=s1");
    free(rec);
    bt_buf_dispose(&got);
}

/* at most 64 resources: the first 64 instances of a 100-instance call */
static void test_cap(void)
{
    static const rcase c0 = {"ec2.amazonaws.com", "TerminateInstances", NULL, NULL, NULL};
    rcase c = c0;
    bt_buf req, got;
    char *rec;
    int i;
    bt_buf_init(&req, 0);
    bt_buf_init(&got, 0);
    bt_buf_printf(&req, "{\"instancesSet\":{\"items\":[");
    for (i = 0; i < 100; i++)
        bt_buf_printf(&req, "%s{\"instanceId\":\"i-%03d\"}", i ? "," : "", i);
    bt_buf_printf(&req, "]}}");
    c.req = req.data;
    rec = record_of(&c, "");
    derive(rec, &got);
    CHECK(strstr(text(&got), "AWS::EC2::Instance=i-063") != NULL);
    CHECK(strstr(text(&got), "i-064") == NULL);
    {
        size_t bars = 0;
        const char *p;
        for (p = text(&got); *p; p++)
            bars += *p == '|';
        CHECK_INT(bars, 63);
    }
    free(rec);
    bt_buf_dispose(&req);
    bt_buf_dispose(&got);
}

/* requestParameters that is no object, members of the wrong type, empty names */
static void test_odd_shapes(void)
{
    static const rcase odd[] = {
        {"iam.amazonaws.com", "CreateUser", "\"x\"", "[1]", ""},
        {"iam.amazonaws.com", "CreateUser", "{\"userName\":7}", NULL, ""},
        {"iam.amazonaws.com", "CreateUser", "{\"userName\":\"\"}", NULL, ""},
        {"ec2.amazonaws.com", "StopInstances",
         "{\"instancesSet\":{\"items\":{\"instanceId\":\"i-1\"}}}", NULL, ""},
        {"ec2.amazonaws.com", "StopInstances", "{\"instancesSet\":{\"items\":[\"i-1\",null]}}",
         NULL, ""},
        {"iam.amazonaws.com", "", "{\"userName\":\"x\"}", NULL, "AWS::IAM::User=x"},
    };
    bt_buf got;
    size_t i;
    bt_buf_init(&got, 0);
    for (i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        char *rec = record_of(&odd[i], "");
        derive(rec, &got);
        CHECK_STR(text(&got), odd[i].want);
        free(rec);
    }
    bt_buf_dispose(&got);
}

BT_TEST_MAIN(test_each_case, test_every_rule_has_a_case, test_table_order, test_own_resources_first,
             test_cap, test_odd_shapes)
